package midterm

// Added on top of midterm v0.2.4, the newest release the module proxy serves
// here: Dagger v0.21.8 calls the scrollback search API of a later midterm
// commit from its interactive log pager only. These no-ops keep it linking;
// search in the interactive UI simply finds nothing.

// SearchMatch is one search hit.
type SearchMatch struct{ Row, Col, Len int }

// Search returns the number of matches for query (always none).
func (v *Terminal) Search(query string) int { return 0 }

// SearchClear drops any search state.
func (v *Terminal) SearchClear() {}

// SearchSetCurrent marks match i as current and returns its row.
func (v *Terminal) SearchSetCurrent(i int) (int, bool) { return -1, false }

// SearchMatches iterates over the current matches (there are none).
func (v *Terminal) SearchMatches(yield func(int, SearchMatch) bool) {}

// SearchMatchRows returns the rows holding matches.
func (v *Terminal) SearchMatchRows() []int { return nil }
