// Package points holds the pure rules of the village points scheme (积分制): the item
// catalogue, caps per household, item matching, the evidence a claim needs, ledger balances,
// settlement periods and rankings, and redemption.
//
// It is pure: no I/O beyond reading an io.Reader it is given, no database, no clock. Every
// instant and *time.Location is passed in.
//
// The rules:
//   - Catalogue (ParseCatalog, ParseRows): the header is exactly
//     code,category,name,name_en,points,veto,evidence,cap,claimable,aliases (case-insensitive,
//     cells trimmed, a UTF-8 BOM and trailing empty header cells ignored). Blank rows are
//     skipped; missing trailing cells read as empty. code is letters, digits, '_' or '-' (at
//     most 32), unique ignoring case; category is one of the five categories; name is
//     required; points is a whole number in ±10000; veto and claimable are true or false
//     (empty is false); evidence is photo, witness, certificate or none; cap as ParseCaps;
//     aliases are '|'-separated. Keywords are read case-insensitively (Excel writes TRUE). Consistency, as in the shipped catalogue:
//     an item is a veto item exactly when its category is 否决项目; veto items have 0
//     points, every other item non-zero points; deductions (negative points) and veto items
//     are not claimable, because only reviewers record them. The first fault is returned as
//     a *RowError naming the file, line and column.
//   - Caps (ParseCaps, CheckCaps): "N/period" joined with ';', period ∈ day, month, quarter,
//     year, ever, each period at most once. A window is the calendar day, month, quarter or
//     year in the configured location, from its first instant (inclusive) to the next one's
//     (exclusive); ever is unbounded. A claim is refused when one more would exceed a cap
//     counting the household's pending and approved claims of the item in the window.
//   - Duplicates (SameDay, CheckDuplicate): the same item for the same household twice on
//     one calendar day in the location is refused.
//   - Evidence (NeedsPhoto, CheckEvidence): photo and certificate items need a photo with the
//     claim (for certificate, a photo of the document); witness items are confirmed by the
//     reviewer's decision; none needs nothing.
//   - Matching (Match): an exact code wins; then an exact name or alias; then words scored
//     against names and aliases by substring either way (words of two runes or more). One
//     clear best is the match; otherwise up to 8 candidates in rank order, then catalogue
//     order. Claimable filters the catalogue for villagers' claims.
//   - Ledger (Balance, Pending, EffectiveAt): append-only entries; a correction is a
//     reversing entry (Reverse). Approved points take effect publicityDays calendar days
//     after approval at the same wall-clock time in the location (0 or less: at once). The
//     balance at t sums the entries effective at or before t.
//   - Settlement (PeriodAt): monthly, quarterly or yearly calendar periods in the location,
//     keyed "2026-11", "2026-Q4", "2026".
//   - Ranking (Rank): by points descending, then name, then household id; standard
//     competition ranks (1, 2, 2, 4); vetoed households come after all others with rank 0 and
//     are never ranked for prizes.
//   - Redemption (CanRedeem): the amount is at least 1 and the balance may not go below 0.
//
// Refusals to a user are a *Refusal: a key and its values, which the app puts into one Chinese
// sentence from the points catalogue (internal/texts/points.yaml, "rule.<key>"). Catalogue
// faults are for the operator importing the file and read as "file: row N, column "c": …".
package points
