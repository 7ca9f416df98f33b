// Package command parses chat messages into bot commands and check-ins.
//
// It is pure: no I/O, no clock. Every instant and *time.Location is passed in.
//
// Commands (Parse):
//   - A command is "/name" or "/name@botusername" at the start of a message (leading
//     whitespace is ignored). The name is 1–32 ASCII letters, digits or underscores and is
//     returned lower-case. A command addressed to another bot ("/checkin@other_bot") is not
//     ours; when botUsername is empty no addressed command is accepted, because we cannot
//     tell whether it is ours.
//   - The name must be followed by whitespace, the end, or a non-ASCII character
//     ("/checkin支委会" is /checkin with argument 支委会); any other ASCII character
//     ("/path/to", "/a.b") means the text is not a command.
//   - Arguments are the rest split on any Unicode whitespace (including the ideographic
//     space U+3000) and the invisible separators U+200B, U+2060 and U+FEFF; Cmd.Rest is the
//     raw remainder with those trimmed from both ends.
//   - Command words: a message starting with one of the Words given (the bot's command
//     table: 打卡, 签到, 积分, 积分项目 …) is that command, in groups and private chats. The
//     longest word wins (积分项目 before 积分), and a word counts only when the text ends
//     after it or white space or punctuation follows: "积分很重要", "打卡机坏了" and
//     "打卡党课" are chatter, "排名", "排名？" and "打卡：党课" are commands. A word counts
//     only at the start of the message ("大家记得打卡" is not a command). White space and
//     separators (: ： , ， 、 ; ； 。 ! ！ ? ？) after the word are dropped. Cmd.Plain and
//     Cmd.Word tell the caller it came from a word.
//
// Check-ins (ParseCheckin):
//
//	/checkin [branch] <obligation>[+<obligation>…] [date] [present/total] [topic…]
//
// The parts:
//   - branch: only when allowBranch (private chats). The first argument is a branch code when
//     it does not match an obligation and looks like a unit code: ASCII letters, digits, '_'
//     and '-', starting with a letter or digit, at most 64 bytes, and containing at least one
//     '-' or upper-case letter (unit codes are like QA-RZ-XZ-B1; obligation codes are
//     lower-case snake_case). It is returned as typed.
//   - obligations: matched by code (case-insensitive), name or alias through an
//     ObligationMatcher; joined with '+', '＋' or '、', with or without spaces around the
//     joiner; duplicates are dropped, order is kept.
//   - date: 2026-11-20, 2026/11/20, 2026.11.20, 11-20, 11/20, 11.20, 11月20日 (or 号),
//     2026年11月20日, 20号/20日 (a day of this month), 今天/今日, 昨天/昨日, 前天, 上周五 /
//     上星期五 / 上礼拜五 (a day of last week, weeks starting on Monday), 本周一 / 这周一;
//     full-width digits and punctuation are accepted. The default is today in loc. A date
//     without a year takes the current year in loc, or the previous year when that would be
//     more than one day in the future; a day without a month likewise takes this month or
//     the previous one. A bare weekday (周五) is not read: which week is not guessed. Whether
//     the date is in the future is the caller's rule (see IsFuture).
//   - attendance: present/total, e.g. 7/9, 7／9, 7人/9人, or 应到9人实到7人 / 实到7人，应到9人
//     (in one argument or two; 人 optional); present ≤ total and total ≥ 1. One half alone
//     (实到7人) is an error asking for the other, not a guess.
//   - Date and attendance may come in either order, each at most once. A bare "a/b" with an
//     ASCII slash is ambiguous (11/20 is a date and an attendance): it is a date when an
//     attendance was read before it or follows it, or when a > b; otherwise an attendance.
//     Write dates as 11-20 or 11月20日 to avoid the question.
//   - topic: every argument after these, joined with single spaces; invalid UTF-8 and control
//     characters are dropped; at most 200 runes.
//
// Every error is a *ParseError whose Text says why in one sentence. What the package tells
// the user (errors, Reading.Unsure's questions) is a Text: a key of the free-text
// catalogue and its values, put in words by the app (app.Say); the package holds no wording.
//
// Free text (ReadCheckin, ReadClaim; SPEC §7.3): a message that is no command is read for
// a check-in — the activities named anywhere, the date, the attendance, the topic after
// 主题/议题/内容, a requested make-up period (补开11月), the pasted minutes template — or for a
// claim (a catalogue item named or described). What cannot be read for sure is returned in
// Reading.Unsure as a question, never guessed; a topic found without a label is marked
// Reading.TopicToConfirm and asked on the confirmation. testdata/corpus.tsv measures it
// (TestCorpus). A reply to the confirmation corrects the reading (Correct): a topic, an
// attendance or a date written in it replaces the one read.
package command
