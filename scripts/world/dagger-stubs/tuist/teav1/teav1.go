// Package teav1 is a compile-only stand-in for github.com/vito/tuist/teav1
// (see the tuist stand-in for why).
package teav1

import "github.com/vito/tuist"

type Wrap struct{ tuist.Compo }

func New(any) *Wrap { return &Wrap{} }

func (w *Wrap) OnQuit(func()) {}
