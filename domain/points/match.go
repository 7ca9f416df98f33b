package points

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxCandidates is the most items Match offers when the words are ambiguous.
const MaxCandidates = 8

// MatchResult is what a claim's words name: one item (Exact), several (Candidates, best
// first, at most MaxCandidates) or nothing (both empty).
type MatchResult struct {
	Exact      *Item
	Candidates []Item
}

// Scores of one query word against one item. A word equal to a code, name or alias is
// "exact"; the others are partial and longer overlaps score higher.
const (
	scoreCode        = 1000
	scoreExact       = 100
	scoreContains    = 20 // the word contains a name or alias ("今天去巡逻" ⊃ "巡逻")
	scoreContainedIn = 10 // a name or alias contains the word ("老人" ⊂ "孝敬老人")
)

// Match finds the catalogue item that a claim's words name:
//  1. the whole query equal to a code (ignoring case and full width) is that item;
//  2. else the whole query equal to names or aliases: one item is the match, several are
//     the candidates;
//  3. else each word (of the query split on white space) scores every item by its best
//     overlap with the item's code, name or aliases (substring either way, for words and
//     terms of two runes or more); the scores add up over the words. A single scoring item,
//     or a best item ahead of the rest with a word equal to its code, name or alias, is the
//     match ("/claim 巡逻 今晚和邻居一起" names A01); otherwise the best MaxCandidates
//     are the candidates, ties in catalogue order.
//
// Pass Claimable(items) for a villager's claim.
func Match(items []Item, query string) MatchResult {
	q := key(query)
	if q == "" {
		return MatchResult{}
	}
	for i := range items {
		if key(items[i].Code) == q {
			return exact(items[i])
		}
	}
	var named []Item
	for _, it := range items {
		if slices.ContainsFunc(terms(it), func(t string) bool { return t == q }) {
			named = append(named, it)
		}
	}
	if len(named) > 0 {
		return result(named)
	}

	words := strings.FieldsFunc(q, unicode.IsSpace)
	type scored struct {
		item  Item
		score int
		named bool // a word equals its code, name or alias
	}
	var hits []scored
	for _, it := range items {
		h := scored{item: it}
		for _, w := range words {
			s := score(it, w)
			h.score += s
			h.named = h.named || s >= scoreExact
		}
		if h.score > 0 {
			hits = append(hits, h)
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return b.score - a.score })
	if len(hits) == 1 || len(hits) > 1 && hits[0].named && hits[0].score > hits[1].score {
		return exact(hits[0].item)
	}
	out := make([]Item, 0, min(len(hits), MaxCandidates))
	for _, h := range hits[:min(len(hits), MaxCandidates)] {
		out = append(out, h.item)
	}
	return result(out)
}

// score is the best overlap of one (normalised) word with item.
func score(it Item, w string) int {
	if w == key(it.Code) {
		return scoreCode
	}
	best := 0
	wn := utf8.RuneCountInString(w)
	for _, t := range terms(it) {
		tn := utf8.RuneCountInString(t)
		s := 0
		switch {
		case t == w:
			s = scoreExact
		case tn >= 2 && strings.Contains(w, t):
			s = scoreContains + tn
		case wn >= 2 && strings.Contains(t, w):
			s = scoreContainedIn + wn
		}
		best = max(best, s)
	}
	return best
}

// terms are an item's name and aliases, normalised.
func terms(it Item) []string {
	out := make([]string, 0, 1+len(it.Aliases))
	out = append(out, key(it.Name))
	for _, a := range it.Aliases {
		out = append(out, key(a))
	}
	return out
}

func exact(it Item) MatchResult { return MatchResult{Exact: &it} }

func result(items []Item) MatchResult {
	switch len(items) {
	case 0:
		return MatchResult{}
	case 1:
		return exact(items[0])
	}
	return MatchResult{Candidates: items[:min(len(items), MaxCandidates)]}
}

// Claimable returns the items villagers may claim, in order.
func Claimable(items []Item) []Item {
	var out []Item
	for _, it := range items {
		if it.Claimable {
			out = append(out, it)
		}
	}
	return out
}
