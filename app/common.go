package app

import (
	"fmt"
	"strings"
)

// ImportResult summarises an import in one line.
type ImportResult struct {
	File             string
	Rows             int
	Created, Updated int
}

func (r ImportResult) String() string {
	return fmt.Sprintf("%s: %d rows imported (%d created, %d updated)", r.File, r.Rows, r.Created, r.Updated)
}

// Bounds on imported fields: a unit's or person's name, and codes (unit
// codes, households).
const (
	MaxNameLen = 100
	MaxCodeLen = 64
)

// ContainsStr reports whether s is in list.
func ContainsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParseYesNo reads yes/no cells (yes, y, true, 1, 是; no, n, false, 0, 否).
func ParseYesNo(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "true", "1", "是":
		return true, true
	case "no", "n", "false", "0", "否":
		return false, true
	}
	return false, false
}
