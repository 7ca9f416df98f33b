package tgfake

import (
	"fmt"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// supergroupIDs are at or below this: Telegram's "-100…" ids.
const supergroupIDs = -1000000000000

// AddChat makes a chat known to the server (its type, title, forum flag);
// with Options.StrictChats only known chats can be written to.
func (s *Server) AddChat(c models.Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats[c.ID] = c
}

// Chat returns a known chat.
func (s *Server) Chat(id int64) (models.Chat, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.chats[id]
	return c, ok
}

// chatLocked returns the known chat or one synthesized from the id's shape.
func (s *Server) chatLocked(id int64) models.Chat {
	if c, ok := s.chats[id]; ok {
		return c
	}
	c := models.Chat{ID: id, Type: models.ChatTypeGroup}
	switch {
	case id > 0:
		c.Type = models.ChatTypePrivate
	case id <= supergroupIDs:
		c.Type = models.ChatTypeSupergroup
	}
	return c
}

func (s *Server) resolveChat(v string) (int64, *Failure) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, badRequest("chat_id is empty")
	}
	if name, ok := strings.CutPrefix(v, "@"); ok {
		for id, c := range s.chats {
			if c.Username != "" && strings.EqualFold(c.Username, name) {
				return id, nil
			}
		}
		return 0, badRequest("chat not found")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("chat not found")
	}
	if _, ok := s.chats[id]; !ok && s.opts.StrictChats {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

// nextMessageIDLocked allocates a message id; ids are per chat and shared by
// the users' and the bot's messages, as in Telegram.
func (s *Server) nextMessageIDLocked(chatID int64) int {
	s.lastMsgID[chatID]++
	return s.lastMsgID[chatID]
}

type queryState struct {
	data string
	from int64
}

type storedFile struct {
	id, unique, path string
	data             []byte
}

func (f *storedFile) model() models.File {
	return models.File{FileID: f.id, FileUniqueID: f.unique, FileSize: int64(len(f.data)), FilePath: f.path}
}

func (f *storedFile) photoSize() models.PhotoSize {
	return models.PhotoSize{FileID: f.id, FileUniqueID: f.unique, Width: 1280, Height: 960, FileSize: len(f.data)}
}

// addFileLocked stores a file under id (generated when empty).
func (s *Server) addFileLocked(id, dir, ext string, data []byte) *storedFile {
	s.fileseq++
	if id == "" {
		id = fmt.Sprintf("AgACfake%06d", s.fileseq)
	}
	if ext == "" {
		ext = ".jpg"
	}
	f := &storedFile{
		id: id, unique: fmt.Sprintf("AQADfake%06d", s.fileseq),
		path: fmt.Sprintf("%s/file_%d%s", dir, s.fileseq, ext), data: data,
	}
	if old := s.files[id]; old != nil {
		f.unique, f.path = old.unique, old.path
	}
	s.files[id] = f
	return f
}

// AddFile stores a file that getFile and the download URL then serve, e.g.
// the content behind a file_id used in PhotoMessage. An empty fileID gets a
// generated one.
func (s *Server) AddFile(fileID string, data []byte) models.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addFileLocked(fileID, "photos", ".jpg", append([]byte(nil), data...)).model()
}

// File returns the content of a stored file (uploaded by the bot or added).
func (s *Server) File(fileID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[fileID]
	if f == nil {
		return nil, false
	}
	return append([]byte(nil), f.data...), true
}

// serveFile answers /file/bot<token>/<file_path>.
func (s *Server) serveFile(w http.ResponseWriter, rest string) {
	token, fp, _ := strings.Cut(rest, "/")
	notFound := &Failure{Code: http.StatusNotFound, Description: "Not Found"}
	if token != s.opts.Token {
		writeJSON(w, http.StatusUnauthorized, errorBody(&Failure{Code: http.StatusUnauthorized, Description: "Unauthorized"}))
		return
	}
	s.mu.Lock()
	var data []byte
	found := false
	for _, f := range s.files {
		if f.path == fp {
			data, found = f.data, true
			break
		}
	}
	s.mu.Unlock()
	if !found {
		writeJSON(w, http.StatusNotFound, errorBody(notFound))
		return
	}
	ct := mime.TypeByExtension(path.Ext(fp))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// PrivateChat is the private chat with user (and registers it).
func (s *Server) PrivateChat(user models.User) models.Chat {
	c := models.Chat{ID: user.ID, Type: models.ChatTypePrivate, FirstName: user.FirstName, LastName: user.LastName, Username: user.Username}
	s.AddChat(c)
	return c
}

// Group is a group chat (and registers it): a supergroup when id is a
// "-100…" id (<= -1000000000000), else a basic group.
func (s *Server) Group(id int64, title string) models.Chat {
	c := models.Chat{ID: id, Type: models.ChatTypeGroup, Title: title}
	if id <= supergroupIDs {
		c.Type = models.ChatTypeSupergroup
	}
	s.AddChat(c)
	return c
}

// incoming builds a user's message in chat with the next message id.
func (s *Server) incoming(chat models.Chat, from models.User) *models.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.chats[chat.ID]; !ok {
		s.chats[chat.ID] = chat
	}
	m := &models.Message{ID: s.nextMessageIDLocked(chat.ID), Date: int(s.now().Unix()), Chat: chat}
	if chat.Type == models.ChatTypeChannel {
		m.SenderChat = &chat
	} else {
		u := from
		m.From = &u
	}
	return m
}

func wrapMessage(m *models.Message) models.Update {
	if m.Chat.Type == models.ChatTypeChannel {
		return models.Update{ChannelPost: m}
	}
	return models.Update{Message: m}
}

// TextMessage builds an update for a text message from a user, with the next
// message id of the chat, the current date and bot_command entities. Send it
// with SendUpdate.
func (s *Server) TextMessage(chat models.Chat, from models.User, text string) models.Update {
	m := s.incoming(chat, from)
	m.Text = text
	m.Entities = commandEntities(text)
	return wrapMessage(m)
}

// ReplyMessage is TextMessage replying to to, a message the bot sent: its
// reply_to_message is to's current content, buttons included, as Telegram
// gives it.
func (s *Server) ReplyMessage(chat models.Chat, from models.User, text string, to Message) models.Update {
	u := s.TextMessage(chat, from, text)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := &to
	if m, ok := s.msgs[msgKey{to.ChatID, to.MessageID}]; ok {
		cur = m
	}
	u.Message.ReplyToMessage = s.apiMessage(cur, false)
	return u
}

// PhotoMessage builds an update for a photo with a caption (bot_command
// entities included). fileID names the largest size; an unknown fileID is
// registered (empty content, see AddFile) so getFile works on it.
func (s *Server) PhotoMessage(chat models.Chat, from models.User, caption, fileID string) models.Update {
	m := s.incoming(chat, from)
	s.mu.Lock()
	small := s.addFileLocked(fileID+"_s", "photos", ".jpg", nil)
	big := s.files[fileID]
	if big == nil {
		big = s.addFileLocked(fileID, "photos", ".jpg", nil)
	}
	s.mu.Unlock()
	ss := small.photoSize()
	ss.Width, ss.Height = 90, 68
	m.Photo = []models.PhotoSize{ss, big.photoSize()}
	m.Caption = caption
	m.CaptionEntities = commandEntities(caption)
	return wrapMessage(m)
}

// CallbackQuery builds the update of user from tapping a button with data
// under msg, a message the bot sent (its current content is used). The query
// id is registered so answerCallbackQuery accepts it once.
func (s *Server) CallbackQuery(from models.User, msg Message, data string) models.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := &msg
	if m, ok := s.msgs[msgKey{msg.ChatID, msg.MessageID}]; ok {
		cur = m
	}
	s.queryseq++
	id := strconv.FormatInt(4_000_000_000_000_000+s.queryseq, 10)
	s.queries[id] = &queryState{data: data, from: from.ID}
	return models.Update{CallbackQuery: &models.CallbackQuery{
		ID:   id,
		From: from,
		Message: models.MaybeInaccessibleMessage{
			Type:    models.MaybeInaccessibleMessageTypeMessage,
			Message: s.apiMessage(cur, false),
		},
		ChatInstance: strconv.FormatInt(msg.ChatID^0x5DEECE66D, 10),
		Data:         data,
	}}
}

// MigrationUpdates builds the two service messages Telegram sends when group
// old becomes supergroup newID: migrate_to_chat_id in the old chat and
// migrate_from_chat_id in the new one. Delivering the first through SendUpdate
// also migrates the chat (see MigrateChat).
func (s *Server) MigrationUpdates(old models.Chat, newID int64, from models.User) []models.Update {
	m1 := s.incoming(old, from)
	m1.MigrateToChatID = newID
	nc := models.Chat{ID: newID, Type: models.ChatTypeSupergroup, Title: old.Title}
	m2 := s.incoming(nc, from)
	m2.MigrateFromChatID = old.ID
	return []models.Update{{Message: m1}, {Message: m2}}
}

// BotMembership builds the my_chat_member update Telegram sends when the
// bot's status in chat changes, e.g. models.ChatMemberTypeBanned ("kicked")
// when a user blocks the bot or a group removes it, ChatMemberTypeMember when
// it is (re)started or added. Delivering it through SendUpdate blocks or
// unblocks the chat like BlockChat does.
func (s *Server) BotMembership(chat models.Chat, from models.User, status models.ChatMemberType) models.Update {
	old := models.ChatMemberTypeMember
	if status == models.ChatMemberTypeMember || status == models.ChatMemberTypeAdministrator {
		old = models.ChatMemberTypeLeft
		if chat.Type == models.ChatTypePrivate {
			old = models.ChatMemberTypeBanned
		}
	}
	s.AddChat(chat)
	return models.Update{MyChatMember: &models.ChatMemberUpdated{
		Chat: chat, From: from, Date: int(s.now().Unix()),
		OldChatMember: chatMember(old, s.me), NewChatMember: chatMember(status, s.me),
	}}
}

func chatMember(status models.ChatMemberType, u models.User) models.ChatMember {
	m := models.ChatMember{Type: status}
	switch status {
	case models.ChatMemberTypeAdministrator:
		m.Administrator = &models.ChatMemberAdministrator{Status: status, User: u}
	case models.ChatMemberTypeLeft:
		m.Left = &models.ChatMemberLeft{Status: status, User: &u}
	case models.ChatMemberTypeBanned:
		m.Banned = &models.ChatMemberBanned{Status: status, User: &u}
	default:
		m.Type = models.ChatMemberTypeMember
		m.Member = &models.ChatMemberMember{Status: models.ChatMemberTypeMember, User: &u}
	}
	return m
}

// commandEntities finds bot commands the way Telegram does: "/" at the start
// or after a space, then 1-64 of [A-Za-z0-9_], an optional @username, and no
// word character right after (so "/打卡" is not a command). Lengths are in
// UTF-16 code units.
func commandEntities(text string) []models.MessageEntity {
	var ents []models.MessageEntity
	isCmd := func(c byte) bool { return isAlnum(c) || c == '_' }
	for i := 0; i < len(text); i++ {
		if text[i] != '/' {
			continue
		}
		if i > 0 {
			if r, _ := utf8.DecodeLastRuneInString(text[:i]); !unicode.IsSpace(r) {
				continue
			}
		}
		j := i + 1
		for j < len(text) && isCmd(text[j]) {
			j++
		}
		if j == i+1 || j-i-1 > 64 {
			continue
		}
		if j < len(text) && text[j] == '@' {
			k := j + 1
			for k < len(text) && isCmd(text[k]) {
				k++
			}
			if k-j-1 >= 3 {
				j = k
			}
		}
		if j < len(text) {
			r, _ := utf8.DecodeRuneInString(text[j:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '/' || r == '<' || r == '>' || r == '@' {
				continue
			}
		}
		ents = append(ents, models.MessageEntity{
			Type:   models.MessageEntityTypeBotCommand,
			Offset: utf16Len(text[:i]),
			Length: utf16Len(text[i:j]),
		})
		i = j - 1
	}
	return ents
}
