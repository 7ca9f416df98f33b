package tgfake

import (
	"bytes"
	"encoding/json"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"
)

type methodDef struct {
	name string
	fn   func(*Server, *apiCall) (any, *Failure)
}

// methodTable maps lower-cased method names (Telegram ignores case) to the
// implementations. Filled in init to avoid an initialization cycle through
// FailNext and CallsTo.
var methodTable = map[string]methodDef{}

func init() {
	for name, fn := range map[string]func(*Server, *apiCall) (any, *Failure){
		"getMe":                  (*Server).getMe,
		"getUpdates":             (*Server).getUpdates,
		"setWebhook":             (*Server).setWebhook,
		"deleteWebhook":          (*Server).deleteWebhook,
		"getWebhookInfo":         (*Server).getWebhookInfo,
		"setMyCommands":          (*Server).setMyCommands,
		"getMyCommands":          (*Server).getMyCommands,
		"deleteMyCommands":       (*Server).deleteMyCommands,
		"sendMessage":            (*Server).sendMessage,
		"sendPhoto":              (*Server).sendPhoto,
		"sendChatAction":         (*Server).sendChatAction,
		"editMessageText":        (*Server).editMessageText,
		"editMessageCaption":     (*Server).editMessageCaption,
		"editMessageReplyMarkup": (*Server).editMessageReplyMarkup,
		"deleteMessage":          (*Server).deleteMessage,
		"answerCallbackQuery":    (*Server).answerCallbackQuery,
		"getFile":                (*Server).getFile,
	} {
		methodTable[strings.ToLower(name)] = methodDef{name: name, fn: fn}
	}
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func (s *Server) getMe(*apiCall) (any, *Failure) { return s.me, nil }

func (s *Server) sendMessage(c *apiCall) (any, *Failure) { return s.sendContent(c, false) }

func (s *Server) sendPhoto(c *apiCall) (any, *Failure) { return s.sendContent(c, true) }

// sendContent is sendMessage (caption=false) and sendPhoto: the same checks
// and effects on a message's text or a photo's caption, the photo checked
// before its caption.
func (s *Server) sendContent(c *apiCall, caption bool) (any, *Failure) {
	p := c.p
	s.mu.Lock()
	defer s.mu.Unlock()
	chatID, f := s.targetChat(p)
	if f != nil {
		return nil, f
	}
	var file *storedFile
	if caption {
		if file, f = s.photoParam(c); f != nil {
			return nil, f
		}
	}
	r, f := renderContent(p, caption)
	if f != nil {
		return nil, f
	}
	return s.send(chatID, p, func(m *Message) {
		r.apply(m)
		if caption {
			m.Photo = file.id
		}
	})
}

// rendered is a message's text (or a photo's caption) as sent and as shown.
type rendered struct {
	p       map[string]string
	caption bool
	plain   string
	ents    []models.MessageEntity
}

// renderContent renders p's text (caption=false) or caption with its parse
// mode or entities, under Telegram's length rules.
func renderContent(p map[string]string, caption bool) (rendered, *Failure) {
	field, entField := "text", "entities"
	if caption {
		field, entField = "caption", "caption_entities"
	}
	plain, ents, f := renderText(p[field], p["parse_mode"], p[entField], caption)
	return rendered{p: p, caption: caption, plain: plain, ents: ents}, f
}

// apply writes the text or caption and its parameters into m.
func (c rendered) apply(m *Message) {
	if c.caption {
		m.Caption = c.p["caption"]
	} else {
		m.Text = c.p["text"]
		m.LinkPreviewDisabled = linkPreviewDisabled(c.p)
	}
	m.ParseMode, m.Plain, m.Entities = c.p["parse_mode"], c.plain, c.ents
}

// photoParam is sendPhoto's photo: an upload, a URL (Telegram would
// download it) or the id of a file already sent. Callers hold s.mu.
func (s *Server) photoParam(c *apiCall) (*storedFile, *Failure) {
	if up, ok := c.uploads["photo"]; ok {
		return s.addFileLocked("", "photos", path.Ext(up.filename), up.data), nil
	}
	v := strings.TrimSpace(c.p["photo"])
	if v == "" {
		return nil, badRequest("there is no photo in the request")
	}
	if u, err := url.Parse(v); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return s.addFileLocked("", "photos", ".jpg", nil), nil
	}
	if file := s.files[v]; file != nil {
		return file, nil
	}
	return nil, badRequest("wrong file identifier/HTTP URL specified")
}

// send adds a message to chatID once sendCommon lets it through; content
// fills in what is particular to the method. Callers hold s.mu.
func (s *Server) send(chatID int64, p map[string]string, content func(*Message)) (any, *Failure) {
	m, f := s.sendCommon(chatID, p)
	if f != nil {
		return nil, f
	}
	content(m)
	s.storeSent(m)
	return s.apiMessage(m, true), nil
}

// sendCommon validates what every send shares and charges flood control last,
// so a rejected request costs no token. Callers hold s.mu.
func (s *Server) sendCommon(chatID int64, p map[string]string) (*Message, *Failure) {
	thread, f := intParam(p, "message_thread_id")
	if f != nil {
		return nil, f
	}
	markup, kb, f := parseMarkup(p["reply_markup"])
	if f != nil {
		return nil, f
	}
	replyTo, f := s.replyTarget(chatID, p)
	if f != nil {
		return nil, f
	}
	if f := s.takeToken(chatID); f != nil {
		return nil, f
	}
	return &Message{
		MessageID:           s.nextMessageIDLocked(chatID),
		ChatID:              chatID,
		ThreadID:            thread,
		ReplyTo:             replyTo,
		ReplyMarkup:         markup,
		Keyboard:            kb,
		DisableNotification: boolParam(p, "disable_notification"),
		At:                  s.now(),
	}, nil
}

func (s *Server) storeSent(m *Message) {
	k := msgKey{m.ChatID, m.MessageID}
	s.msgs[k] = m
	s.sent = append(s.sent, k)
	if limit := s.opts.MaxRecords; limit > 0 && len(s.sent) > limit {
		// The sandbox forgets old messages entirely to bound memory.
		for _, old := range s.sent[:len(s.sent)-limit] {
			delete(s.msgs, old)
		}
		s.sent = trim(s.sent, limit)
	}
	s.notify()
}

func (s *Server) sendChatAction(c *apiCall) (any, *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, f := s.targetChat(c.p); f != nil {
		return nil, f
	}
	return true, nil
}

func (s *Server) editMessageText(c *apiCall) (any, *Failure) { return s.editContent(c.p, false) }

// editMessageCaption changes the caption (and keyboard) of a photo the bot sent.
func (s *Server) editMessageCaption(c *apiCall) (any, *Failure) { return s.editContent(c.p, true) }

// editMessageReplyMarkup changes the keyboard alone.
func (s *Server) editMessageReplyMarkup(c *apiCall) (any, *Failure) { return s.edit(c.p, nil) }

// editContent is editMessageText (caption=false) and editMessageCaption:
// the same checks and effects on a message's text or a photo's caption.
func (s *Server) editContent(p map[string]string, caption bool) (any, *Failure) {
	return s.edit(p, func(m *Message) (func(), bool, *Failure) {
		switch {
		case caption && m.Photo == "":
			return nil, false, badRequest("there is no caption in the message to edit")
		case !caption && m.Photo != "":
			return nil, false, badRequest("there is no text in the message to edit")
		}
		r, f := renderContent(p, caption)
		if f != nil {
			return nil, false, f
		}
		return func() { r.apply(m) }, r.plain == m.Plain && entitiesEqual(r.ents, m.Entities), nil
	})
}

// edit is every edit method: it finds the message p targets, has content
// (nil for the keyboard alone) check it and say how its content changes
// and whether it stays the same, and refuses an edit that changes neither
// content nor keyboard. Flood control is charged last; like Telegram, an
// edit without reply_markup removes the inline keyboard.
func (s *Server) edit(p map[string]string, content func(*Message) (apply func(), same bool, f *Failure)) (any, *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, f := s.editTarget(p)
	if f != nil {
		return nil, f
	}
	apply, same := func() {}, true
	if content != nil {
		if apply, same, f = content(m); f != nil {
			return nil, f
		}
	}
	markup, kb, f := parseMarkup(p["reply_markup"])
	if f != nil {
		return nil, f
	}
	if same && sameMarkup(markup, m.ReplyMarkup) {
		return nil, badRequest(notModified)
	}
	if f := s.takeToken(m.ChatID); f != nil {
		return nil, f
	}
	apply()
	m.ReplyMarkup, m.Keyboard = markup, kb
	m.Edited, m.EditedAt = true, s.now()
	s.notify()
	return s.apiMessage(m, true), nil
}

// editTarget finds the bot's message an edit refers to. Callers hold s.mu.
func (s *Server) editTarget(p map[string]string) (*Message, *Failure) {
	if p["inline_message_id"] != "" {
		return nil, badRequest("MESSAGE_ID_INVALID") // inline messages are not modelled
	}
	chatID, f := s.targetChat(p)
	if f != nil {
		return nil, f
	}
	id, f := intParam(p, "message_id")
	if f != nil {
		return nil, f
	}
	if m, ok := s.msgs[msgKey{chatID, id}]; ok && !m.Deleted {
		return m, nil
	}
	if _, ok := s.msgs[msgKey{chatID, id}]; !ok && id > 0 && id <= s.lastMsgID[chatID] {
		return nil, badRequest("message can't be edited") // someone else's message
	}
	return nil, badRequest("message to edit not found")
}

func (s *Server) deleteMessage(c *apiCall) (any, *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chatID, f := s.targetChat(c.p)
	if f != nil {
		return nil, f
	}
	id, f := intParam(c.p, "message_id")
	if f != nil {
		return nil, f
	}
	if m, ok := s.msgs[msgKey{chatID, id}]; ok {
		if m.Deleted {
			return nil, badRequest("message to delete not found")
		}
		m.Deleted = true
		s.notify()
		return true, nil
	}
	if id > 0 && id <= s.lastMsgID[chatID] {
		return true, nil
	}
	return nil, badRequest("message to delete not found")
}

func (s *Server) answerCallbackQuery(c *apiCall) (any, *Failure) {
	p := c.p
	s.mu.Lock()
	defer s.mu.Unlock()
	// Answered ids are forgotten: a second answer gets the unknown-id error,
	// as with Telegram.
	q, ok := s.queries[p["callback_query_id"]]
	if !ok {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	cache, f := intParam(p, "cache_time")
	if f != nil {
		return nil, f
	}
	delete(s.queries, p["callback_query_id"])
	s.answers = trim(append(s.answers, CallbackAnswer{
		QueryID: p["callback_query_id"], Data: q.data, UserID: q.from,
		Text: p["text"], ShowAlert: boolParam(p, "show_alert"), URL: p["url"], CacheTime: cache,
		At: s.now(),
	}), s.opts.MaxRecords)
	s.notify()
	return true, nil
}

func (s *Server) setMyCommands(c *apiCall) (any, *Failure) {
	var cmds []models.BotCommand
	has, f := jsonParam(c.p, "commands", &cmds)
	if f != nil {
		return nil, f
	}
	if !has {
		return nil, badRequest("parameter \"commands\" is required")
	}
	if len(cmds) > 100 {
		return nil, badRequest("BOT_COMMANDS_TOO_MUCH")
	}
	for _, cmd := range cmds {
		if !validCommand(cmd.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(cmd.Description); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	return s.withCommands(c, func(key string) any {
		if len(cmds) == 0 {
			delete(s.commands, key)
		} else {
			s.commands[key] = slices.Clone(cmds)
		}
		s.lastCmds = slices.Clone(cmds)
		s.notify()
		return true
	})
}

func (s *Server) getMyCommands(c *apiCall) (any, *Failure) {
	return s.withCommands(c, func(key string) any {
		cmds := slices.Clone(s.commands[key])
		if cmds == nil {
			cmds = []models.BotCommand{}
		}
		return cmds
	})
}

func (s *Server) deleteMyCommands(c *apiCall) (any, *Failure) {
	return s.withCommands(c, func(key string) any {
		delete(s.commands, key)
		s.notify()
		return true
	})
}

// withCommands runs fn under s.mu on the command list key of the call's
// scope and language (see commandsKey); fn's value is the method's result.
func (s *Server) withCommands(c *apiCall, fn func(key string) any) (any, *Failure) {
	key, f := commandsKey(c.p)
	if f != nil {
		return nil, f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(key), nil
}

// CommandsFor returns the commands set for a scope (JSON like
// {"type":"all_private_chats"}, "" for the default scope) and language code.
func (s *Server) CommandsFor(scope, languageCode string) []models.BotCommand {
	key, f := commandsKey(map[string]string{"scope": scope, "language_code": languageCode})
	if f != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[key])
}

func commandsKey(p map[string]string) (string, *Failure) {
	scope := map[string]any{"type": "default"}
	if _, f := jsonParam(p, "scope", &scope); f != nil {
		return "", f
	}
	b, _ := json.Marshal(scope) // map keys are sorted: a canonical form
	return string(b) + "|" + p["language_code"], nil
}

func validCommand(c string) bool {
	if len(c) < 1 || len(c) > 32 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !(c[i] >= 'a' && c[i] <= 'z' || c[i] >= '0' && c[i] <= '9' || c[i] == '_') {
			return false
		}
	}
	return true
}

func (s *Server) getFile(c *apiCall) (any, *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[c.p["file_id"]]
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	return f.model(), nil
}

// targetChat resolves chat_id and applies blocks and migrations. Callers hold s.mu.
func (s *Server) targetChat(p map[string]string) (int64, *Failure) {
	id, f := s.resolveChat(p["chat_id"])
	if f != nil {
		return 0, f
	}
	if f := s.gateChat(id); f != nil {
		return 0, f
	}
	return id, nil
}

// renderText applies the parse mode and Telegram's length rules.
func renderText(text, mode, entities string, caption bool) (string, []models.MessageEntity, *Failure) {
	plain := text
	var ents []models.MessageEntity
	tagged := false
	switch strings.ToLower(mode) {
	case "":
		if strings.TrimSpace(entities) != "" {
			if err := json.Unmarshal([]byte(entities), &ents); err != nil {
				return "", nil, badRequest("can't parse entities JSON object")
			}
		}
	case "html":
		var err error
		plain, ents, tagged, err = parseHTML(text)
		if err != nil {
			return "", nil, badRequest("can't parse entities: " + err.Error())
		}
	case "markdown", "markdownv2":
		// Not validated: zhibu uses HTML.
	default:
		return "", nil, badRequest("unsupported parse_mode")
	}
	if caption {
		if utf16Len(plain) > 1024 {
			return "", nil, badRequest("message caption is too long")
		}
		return plain, ents, nil
	}
	if strings.TrimSpace(plain) == "" {
		if tagged {
			return "", nil, badRequest("text must be non-empty")
		}
		return "", nil, badRequest("message text is empty")
	}
	if utf16Len(plain) > 4096 {
		return "", nil, badRequest("message is too long")
	}
	return plain, ents, nil
}

func entitiesEqual(a, b []models.MessageEntity) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func linkPreviewDisabled(p map[string]string) bool {
	var lpo struct {
		IsDisabled bool `json:"is_disabled"`
	}
	if has, _ := jsonParam(p, "link_preview_options", &lpo); has {
		return lpo.IsDisabled
	}
	return boolParam(p, "disable_web_page_preview")
}

// parseMarkup validates reply_markup and extracts the inline keyboard.
func parseMarkup(raw string) (json.RawMessage, [][]models.InlineKeyboardButton, *Failure) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil, nil
	}
	bad := badRequest("can't parse reply keyboard markup JSON object")
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		return nil, nil, bad
	}
	ik, ok := obj["inline_keyboard"]
	if !ok {
		for _, k := range []string{"keyboard", "remove_keyboard", "force_reply"} {
			if _, ok := obj[k]; ok {
				return json.RawMessage(raw), nil, nil
			}
		}
		return nil, nil, bad
	}
	var rows [][]map[string]json.RawMessage
	if err := json.Unmarshal(ik, &rows); err != nil {
		return nil, nil, bad
	}
	n := 0
	for _, row := range rows {
		for _, b := range row {
			if f := validateButton(b); f != nil {
				return nil, nil, f
			}
			n++
		}
	}
	if n == 0 {
		return nil, nil, nil // an empty inline keyboard is no keyboard
	}
	var kb [][]models.InlineKeyboardButton
	if err := json.Unmarshal(ik, &kb); err != nil {
		return nil, nil, bad
	}
	return json.RawMessage(raw), kb, nil
}

func validateButton(b map[string]json.RawMessage) *Failure {
	var text string
	if err := json.Unmarshal(b["text"], &text); err != nil {
		return badRequest("can't parse inline keyboard button: Field \"text\" must be of type String")
	}
	str := func(k string) (string, bool) {
		v, ok := b[k]
		if !ok || string(v) == "null" {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return string(v), true
		}
		return s, true
	}
	actions := 0
	if d, ok := str("callback_data"); ok {
		if len(d) < 1 || len(d) > 64 {
			return badRequest("BUTTON_DATA_INVALID")
		}
		actions++
	}
	if u, ok := str("url"); ok {
		if !validButtonURL(u) {
			return badRequest("BUTTON_URL_INVALID")
		}
		actions++
	}
	for _, k := range []string{"web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "callback_game"} {
		if _, ok := str(k); ok {
			actions++
		}
	}
	if v, ok := b["pay"]; ok && string(v) == "true" {
		actions++
	}
	// go-telegram/bot sends "copy_text":{"text":""} with every button: only a
	// non-empty copy text is an action.
	var ct struct {
		Text string `json:"text"`
	}
	if v, ok := b["copy_text"]; ok && json.Unmarshal(v, &ct) == nil && ct.Text != "" {
		actions++
	}
	if actions == 0 {
		return badRequest("text buttons are unallowed in the inline keyboard")
	}
	return nil
}

func validButtonURL(v string) bool {
	u, err := url.Parse(v)
	if err != nil || v == "" {
		return false
	}
	switch u.Scheme {
	case "http", "https":
		return u.Host != ""
	case "tg":
		return true
	case "":
		return strings.Contains(v, ".") // Telegram accepts "t.me/x"
	}
	return false
}

// sameMarkup compares markups the way "message is not modified" does: by
// content, with an absent and an empty inline keyboard being equal.
func sameMarkup(a, b json.RawMessage) bool {
	return bytes.Equal(canonicalJSON(a), canonicalJSON(b))
}

func canonicalJSON(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	b, _ := json.Marshal(v)
	return b
}

// replyTarget checks reply_parameters (or the legacy reply_to_message_id).
func (s *Server) replyTarget(chatID int64, p map[string]string) (int, *Failure) {
	var rp struct {
		MessageID int             `json:"message_id"`
		ChatID    json.RawMessage `json:"chat_id"`
		Allow     bool            `json:"allow_sending_without_reply"`
	}
	has, f := jsonParam(p, "reply_parameters", &rp)
	if f != nil {
		return 0, f
	}
	if !has {
		if rp.MessageID, f = intParam(p, "reply_to_message_id"); f != nil {
			return 0, f
		}
		rp.Allow = boolParam(p, "allow_sending_without_reply")
	}
	if rp.MessageID == 0 {
		return 0, nil
	}
	if other := strings.Trim(string(rp.ChatID), `"`); other != "" && other != "null" {
		if id, err := strconv.ParseInt(other, 10, 64); err != nil || id != chatID {
			return rp.MessageID, nil // a reply into another chat: not checked
		}
	}
	m, known := s.msgs[msgKey{chatID, rp.MessageID}]
	exists := rp.MessageID > 0 && rp.MessageID <= s.lastMsgID[chatID] && !(known && m.Deleted)
	if !exists {
		if rp.Allow {
			return 0, nil
		}
		return 0, badRequest("message to be replied not found")
	}
	return rp.MessageID, nil
}

// apiMessage is the Bot API view of a sent message. Callers hold s.mu.
func (s *Server) apiMessage(m *Message, withReply bool) *models.Message {
	chat := s.chatLocked(m.ChatID)
	me := s.me
	am := &models.Message{
		ID:              m.MessageID,
		MessageThreadID: m.ThreadID,
		From:            &me,
		Date:            int(m.At.Unix()),
		Chat:            chat,
		IsTopicMessage:  chat.IsForum && m.ThreadID != 0,
	}
	if chat.Type == models.ChatTypeChannel {
		am.From, am.SenderChat = nil, &chat
	}
	if m.Photo != "" {
		if f := s.files[m.Photo]; f != nil {
			am.Photo = []models.PhotoSize{f.photoSize()}
		}
		am.Caption, am.CaptionEntities = m.Plain, slices.Clone(m.Entities)
	} else {
		am.Text, am.Entities = m.Plain, slices.Clone(m.Entities)
	}
	if m.Edited {
		am.EditDate = int(m.EditedAt.Unix())
	}
	if len(m.Keyboard) > 0 {
		am.ReplyMarkup = &models.InlineKeyboardMarkup{InlineKeyboard: m.clone().Keyboard}
	}
	if withReply && m.ReplyTo != 0 {
		if r, ok := s.msgs[msgKey{m.ChatID, m.ReplyTo}]; ok {
			am.ReplyToMessage = s.apiMessage(r, false)
		}
	}
	return am
}
