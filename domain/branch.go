package domain

import "time"

// Branch types (SPEC §7.1): what kind of organisation a branch is. An
// obligation may bind only some of them (healthcheck.obligations[].applies_to).
const (
	BranchVillage     = "village"
	BranchCommunity   = "community"
	BranchCompound    = "compound"    // 小区功能型党支部
	BranchProperty    = "property"    // 物业党组织
	BranchEnterprise  = "enterprise"  // 企业
	BranchInstitution = "institution" // 机关事业单位
	BranchOther       = "other"
)

// BranchTypes lists the branch types in documentation order.
var BranchTypes = []string{BranchVillage, BranchCommunity, BranchCompound, BranchProperty, BranchEnterprise, BranchInstitution, BranchOther}

// BranchTypeNames are the Chinese words for branch types; an import accepts
// them as well as the codes.
var BranchTypeNames = map[string]string{
	BranchVillage: "村", BranchCommunity: "社区", BranchCompound: "小区功能型", BranchProperty: "物业",
	BranchEnterprise: "企业", BranchInstitution: "机关事业单位", BranchOther: "其他",
}

// branchTypeWords are further Chinese words an import accepts.
var branchTypeWords = map[string]string{
	"村党支部": BranchVillage, "农村": BranchVillage,
	"社区党支部": BranchCommunity,
	"小区":    BranchCompound, "小区功能型党支部": BranchCompound, "功能型": BranchCompound,
	"物业党组织": BranchProperty, "物业公司": BranchProperty,
	"企业党支部": BranchEnterprise, "非公企业": BranchEnterprise,
	"机关": BranchInstitution, "事业单位": BranchInstitution, "机关事业": BranchInstitution,
}

// ValidBranchType reports whether t is a branch type code.
func ValidBranchType(t string) bool { return contains(BranchTypes, t) }

// ParseBranchType reads a branch type given as a code or a Chinese word.
func ParseBranchType(s string) (string, bool) {
	if ValidBranchType(s) {
		return s, true
	}
	for code, name := range BranchTypeNames {
		if s == name {
			return code, true
		}
	}
	if code, ok := branchTypeWords[s]; ok {
		return code, true
	}
	return "", false
}

// DefaultBranchType is the type of a branch whose type was never given: a
// branch under a village is a village branch, under a community a
// community branch, anything else "other".
func DefaultBranchType(parentKind string) string {
	switch parentKind {
	case KindVillage:
		return BranchVillage
	case KindCommunity:
		return BranchCommunity
	}
	return BranchOther
}

// CommitteeQuorum is the number of full members from which the 条例 requires
// a branch committee (支部委员会).
const CommitteeQuorum = 7

// HasCommittee is whether a branch has a committee: as given, else yes when
// it has at least CommitteeQuorum full members or their number is unknown.
func HasCommittee(given *bool, members *int) bool {
	if given != nil {
		return *given
	}
	return members == nil || *members >= CommitteeQuorum
}

// BranchInfo is what a branch is, with the defaults applied: what the API
// shows and what decides which obligations bind it.
type BranchInfo struct {
	Type         string `json:"branch_type"`
	Members      *int   `json:"members,omitempty"`
	Committee    bool   `json:"committee"`
	HasGroups    bool   `json:"has_groups"`
	ThemeDay     int    `json:"theme_day,omitempty"`     // day of month, 0 = none
	ThemeWeekday string `json:"theme_weekday,omitempty"` // e.g. "first-fri"
	TermEnd      string `json:"term_end,omitempty"`      // YYYY-MM-DD
}

// Info applies the defaults to a branch's stored attributes, given its
// parent's kind and whether it has party groups.
func (u Unit) Info(parentKind string, hasGroups bool) BranchInfo {
	bi := BranchInfo{Type: DefaultBranchType(parentKind), Members: u.Members, Committee: HasCommittee(u.Committee, u.Members),
		HasGroups: hasGroups}
	if u.BranchType != nil {
		bi.Type = *u.BranchType
	}
	if u.ThemeDay != nil {
		bi.ThemeDay = *u.ThemeDay
	}
	if u.ThemeWeekday != nil {
		bi.ThemeWeekday = *u.ThemeWeekday
	}
	if u.TermEnd != nil {
		bi.TermEnd = u.TermEnd.Format(time.DateOnly)
	}
	return bi
}
