package app

import (
	"slices"
	"strings"

	"github.com/zhibu/zhibu/domain/command"
	"github.com/zhibu/zhibu/internal/texts"
)

// Say is what domain/command tells the user (a command.Text) in words, from
// the free-text catalogue: the package chooses the message, the catalogue
// its wording.
func Say(t command.Text) string {
	offer := ""
	if len(t.Offer) > 0 {
		offer = texts.FreeText.T("command.offer", "words", strings.Join(t.Offer, "、"), "first", t.Offer[0])
	}
	return texts.FreeText.T(t.Key, append(slices.Clip(t.Args), "offer", offer)...)
}
