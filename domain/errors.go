package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Missing is a lookup by a key the user gave that found nothing, worded so
// that the user sees what is wrong: Missing("单位", "编码", "NOPE") says
// 没有编码为 NOPE 的单位。 It is a *UserError of kind ErrNotFound, so every
// door (bot, API, dashboard, CLI) shows its message as it shows any refusal,
// and errors.Is(err, ErrNotFound) holds.
func Missing(what, by, key string) error {
	return Refuse(ErrNotFound, textMissing, by, key, what)
}

// UnitNotFound is the refusal for an unknown unit code.
func UnitNotFound(code string) error { return Missing(textUnit, textUnitCode, code) }

// Exists is a create that clashes with an existing record named by a key
// the user gave: Exists("单位", "编码", "QA") says 编码为 QA 的单位已存在。
func Exists(what, by, key string) error {
	return Refuse(ErrConflict, textExists, by, key, what)
}

// UserMessage is what to tell a user about err in plain Chinese, never the
// Go error chain: the message of a refusal anywhere in the chain, else a
// general sentence for the kind of error (not found, conflict, forbidden,
// invalid). ok is false for a failure that is no fault of the user's (the
// database is down, a bug): the caller logs err and apologises.
func UserMessage(err error) (msg string, ok bool) {
	var ue *UserError
	switch {
	case err == nil:
		return "", false
	case errors.As(err, &ue):
		return ue.Msg, true
	case errors.Is(err, ErrNotFound):
		return textNotFound, true
	case errors.Is(err, ErrConflict):
		return textConflict, true
	case errors.Is(err, ErrForbidden):
		return textForbidden, true
	case errors.Is(err, ErrInvalid):
		return textInvalid, true
	}
	return "", false
}

// RowError is a fault in a file an operator imports (a catalogue, a units
// or people file): File names it, Row is the 1-based line in the file (the
// header is row 1), Column the column's header name, "" when the fault is
// the row's. domain/points and internal/tabular report their files' faults
// as one.
type RowError struct {
	File   string
	Row    int
	Column string
	Msg    string
}

func (e *RowError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	fmt.Fprintf(&b, "row %d", e.Row)
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}
