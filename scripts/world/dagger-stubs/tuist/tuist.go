// Package tuist is a compile-only stand-in for github.com/vito/tuist, whose
// needed version is not served by the module proxy these machines reach. The
// Dagger CLI links it only for its interactive terminal UI; the plain and
// non-TTY frontends used by SDK sessions never call into it. Starting the UI
// exits with a hint (the CLI ignores Start's error and would otherwise wait
// forever); everything else does nothing.
package tuist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
)

// ErrUnavailable is returned where the real library would drive a terminal.
var ErrUnavailable = errors.New("interactive terminal UI not built in (use --progress=plain)")

type Context struct {
	context.Context
	Width, Height int
}

func (ctx Context) ScreenHeight() int { return ctx.Height }

func (ctx Context) Resize(w, h int) Context { ctx.Width, ctx.Height = w, h; return ctx }
func (ctx Context) Line(string)             {}
func (ctx Context) Lines(...string)         {}
func (ctx Context) SetFocus(Component)      {}

type Component interface{ compo() *Compo }

type Compo struct{}

func (c *Compo) compo() *Compo                                     { return c }
func (c *Compo) Update()                                           {}
func (c *Compo) RenderChild(Context, Component)                    {}
func (c *Compo) RenderChildResult(Context, Component) RenderResult { return RenderResult{} }
func (c *Compo) RenderChildInline(Context, Component) string       { return "" }

type RenderResult struct{ Lines []string }

type (
	Interactive  interface{ Component }
	MouseEnabled interface{ Component }
	Focusable    interface{}
	Hoverable    interface{}
	Mounter      interface{}
	Dismounter   interface{}
)

type MouseEvent struct {
	uv.MouseEvent
	Row, Col int
}

type Container struct {
	Compo
	Children []Component
}

func (c *Container) AddChild(Component)    {}
func (c *Container) RemoveChild(Component) {}
func (c *Container) Clear()                {}

type Spinner struct {
	Compo
	Epoch time.Time
}

func NewSpinner() *Spinner { return &Spinner{} }

type TextInput struct {
	Compo
	Prompt         string
	OnSubmit       func(ctx Context, value string) bool
	KeyInterceptor func(ctx Context, ev uv.KeyPressEvent) bool
}

func (t *TextInput) Value() string   { return "" }
func (t *TextInput) SetValue(string) {}
func (t *TextInput) InsertRune(rune) {}

func NewTextInput(string) *TextInput { return &TextInput{} }

type Completion struct {
	Label, Detail, Documentation, Insert string
}

type CompletionResult struct {
	Items       []Completion
	ReplaceFrom int
}

type CompletionMenu struct{ Compo }

func (m *CompletionMenu) HandleKeyPress(Context, uv.KeyPressEvent) bool { return false }

func NewCompletionMenu(*TextInput, func(string, int) CompletionResult) *CompletionMenu {
	return &CompletionMenu{}
}

type SizeValue struct{}

func SizeAbs(int) SizeValue { return SizeValue{} }

type Anchor int

const AnchorTopRight Anchor = 0

type OverlayMargin struct{ Top, Right, Bottom, Left int }

type OverlayOptions struct {
	Width, Height SizeValue
	Anchor        Anchor
	Margin        OverlayMargin
}

type OverlayHandle struct{}

func (h *OverlayHandle) Remove() {}

type Terminal interface{}

func NewStdTerminal() Terminal { return nil }

type TUI struct{ Container }

func New(Terminal) *TUI { return &TUI{} }
func (t *TUI) Start() error {
	fmt.Fprintln(os.Stderr, "dagger:", ErrUnavailable, "or DAGGER_PROGRESS=plain")
	os.Exit(2)
	return ErrUnavailable
}
func (t *TUI) Stop()                    {}
func (t *TUI) SetDebugWriter(io.Writer) {}
func (t *TUI) RenderLines() []string    { return nil }
func (t *TUI) Exec(func(in io.Reader, out, errOut io.Writer) error) error {
	return ErrUnavailable
}
func (t *TUI) Dispatch(fn func())                                    {}
func (t *TUI) RequestRender(bool)                                    {}
func (t *TUI) SetFocus(Component)                                    {}
func (t *TUI) SetShowHardwareCursor(bool)                            {}
func (t *TUI) ShowOverlay(Component, *OverlayOptions) *OverlayHandle { return &OverlayHandle{} }
