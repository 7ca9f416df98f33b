package cli

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/demo"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/web"
)

// sbx is what the sandbox and serve's start-up message say
// (internal/texts/sandbox.yaml).
var sbx = texts.Sandbox

func runDemo(ctx context.Context, env Env, args []string) error {
	f := newFlags("demo", env)
	seed := f.Uint64("seed", demo.DemoSeed, "the demo county's seed: the same seed loads the same county")
	if _, err := f.parse(args); err != nil {
		return err
	}
	return withApp(ctx, f, func(a *app.App) error {
		d, err := demo.Of(a).LoadDemoSeed(ctx, domain.Operator, *seed)
		if err != nil {
			return err
		}
		if d.Existing {
			fmt.Fprintln(env.Stdout, "demo county already loaded: nothing changed (load it into an empty database to start afresh)")
			return nil
		}
		fmt.Fprintf(env.Stdout, "demo county loaded: %d units, %d people, %d sandbox accounts, %d group chats\n",
			len(d.Units)-1, len(d.People)-1, len(d.Users), len(d.Groups))
		return nil
	})
}

// seedSandbox loads the demo county into an empty sandbox database, so
// that `make run` on a fresh machine shows something to play with, and
// makes the fake Bot API continue the conversations stored by earlier runs.
func seedSandbox(ctx context.Context, s *Server) error {
	if !s.Config.Sandbox.Demo {
		return nil
	}
	loaded, err := demo.Of(s.App).Loaded(ctx)
	if err != nil {
		return err
	}
	d := demo.BuildDemo()
	if !loaded {
		if d, err = demo.Of(s.App).LoadDemo(ctx, domain.Operator); err != nil {
			return fmt.Errorf("sandbox: demo data: %w", err)
		}
		s.log.Info("sandbox: demo county loaded", slog.Int("units", len(d.Units)-1), slog.Int("people", len(d.People)-1), slog.Int("sandbox_accounts", len(d.Users)))
	}
	s.sandbox = &sandbox{demo: d, srv: s}
	for _, g := range d.Groups {
		s.Fake.AddChat(s.Fake.Group(g.ChatID, g.Title))
	}
	for _, u := range d.Users {
		s.Fake.PrivateChat(tgUser(u))
	}
	return s.resumeSandbox(ctx)
}

// resumeSandbox tells the fake Bot API, which starts empty, what the
// database remembers: update and message ids continue past the stored ones
// (or the service would take new messages for redeliveries and drop them),
// and the bot's messages can still be edited and their buttons tapped.
func (s *Server) resumeSandbox(ctx context.Context) error {
	lastUpdate, lastMsg, err := demo.Of(s.App).ConversationIDs(ctx)
	if err != nil {
		return err
	}
	sends, err := demo.Of(s.App).ChatSends(ctx, s.sandbox.allChats(), sandboxResumeSends)
	if err != nil {
		return err
	}
	var msgs []tgfake.Message
	for _, m := range botMessages(sends) {
		if m.ID != 0 {
			msgs = append(msgs, m.fake())
		}
	}
	if err := s.Fake.Resume(lastUpdate, lastMsg, msgs); err != nil {
		s.log.Warn("sandbox: some stored messages cannot be restored", slog.Any("err", err))
	}
	if lastUpdate > 0 {
		s.log.Info("sandbox: conversations resumed", slog.Int64("last_update_id", lastUpdate), slog.Int("messages", len(msgs)))
	}
	return nil
}

const (
	sandboxHistory     = 200  // messages shown per chat
	sandboxResumeSends = 5000 // bot messages restored into the fake at start
	sandboxSettle      = 5 * time.Second
)

// sandbox is the console at /sandbox: pick a demo person and one of their
// chats, talk to the bot through the fake Bot API, see its replies and tap
// its buttons. The conversation shown is read from the database (the
// updates and outbox tables), so it survives restarts.
type sandbox struct {
	demo demo.Demo
	srv  *Server
}

func (sb *sandbox) allChats() []int64 {
	var ids []int64
	for _, u := range sb.demo.Users {
		ids = append(ids, u.TelegramID)
	}
	for _, g := range sb.demo.Groups {
		ids = append(ids, g.ChatID)
	}
	return ids
}

// defaultUser is the first branch secretary: the person the sandbox is
// mostly about.
func (sb *sandbox) defaultUser() demo.User {
	for _, u := range sb.demo.Users {
		if u.Role == domain.RoleSecretary {
			return u
		}
	}
	return sb.demo.Users[0]
}

func (sb *sandbox) unitName(code string) string {
	for _, row := range sb.demo.Units[1:] {
		if row[0] == code {
			return row[1]
		}
	}
	return code
}

// sandboxChatView is one of a person's chats.
type sandboxChatView struct {
	ID       int64
	Title    string
	Count    int
	Selected bool
}

// chatsOf lists u's chats: the private chat with the bot, then their groups.
func (sb *sandbox) chatsOf(u demo.User) []sandboxChatView {
	cs := []sandboxChatView{{ID: 0, Title: sbx.T("chat.private")}}
	for _, g := range sb.demo.ChatsOf(u) {
		cs = append(cs, sandboxChatView{ID: g.ChatID, Title: g.Title})
	}
	return cs
}

// extraRoutes adds the sandbox console when running offline.
func extraRoutes(s *Server) []func(*gin.Engine) {
	if s.Fake == nil {
		return nil
	}
	return []func(*gin.Engine){func(r *gin.Engine) {
		tmpl := web.Templates(template.FuncMap{})
		static, _ := fs.Sub(web.FS, "static")
		r.StaticFS("/static", http.FS(static))
		r.GET("/sandbox", func(c *gin.Context) { s.sandboxPage(c, tmpl) })
		r.POST("/sandbox/send", s.sandboxSend)
		r.POST("/sandbox/tap", s.sandboxTap)
	}}
}

// sandboxUser reads the identity and the chat of a request: the default
// secretary when none or an unknown one is named, the private chat when
// the chat is not one of theirs.
func (s *Server) sandboxUser(c *gin.Context) (demo.User, int64, bool) {
	if s.sandbox == nil || len(s.sandbox.demo.Users) == 0 {
		return demo.User{}, 0, false
	}
	id, _ := strconv.ParseInt(c.Request.FormValue("user"), 10, 64)
	u := s.sandbox.defaultUser()
	for _, x := range s.sandbox.demo.Users {
		if x.TelegramID == id {
			u = x
		}
	}
	chat, _ := strconv.ParseInt(c.Request.FormValue("chat"), 10, 64)
	for _, g := range s.sandbox.demo.ChatsOf(u) {
		if g.ChatID == chat {
			return u, chat, true
		}
	}
	return u, 0, true
}

func (s *Server) sandboxChat(u demo.User, chatID int64) models.Chat {
	for _, g := range s.sandbox.demo.Groups {
		if g.ChatID == chatID {
			return s.Fake.Group(g.ChatID, g.Title)
		}
	}
	return s.Fake.PrivateChat(tgUser(u))
}

func tgUser(u demo.User) models.User {
	return models.User{ID: u.TelegramID, FirstName: u.Name, Username: fmt.Sprintf("demo%d", u.TelegramID)}
}

func (s *Server) sandboxPage(c *gin.Context, tmpl *template.Template) {
	u, chatID, ok := s.sandboxUser(c)
	if !ok {
		c.String(http.StatusNotFound, sbx.T("page.no_demo"))
		return
	}
	ctx := c.Request.Context()
	chat := s.sandboxChat(u, chatID)
	msgs, err := s.sandboxConversation(ctx, chat.ID, u.TelegramID)
	if err != nil {
		s.log.Error("sandbox page", slog.Any("err", err))
		c.String(http.StatusInternalServerError, sbx.T("page.read_failed"))
		return
	}
	chats := s.sandbox.chatsOf(u)
	ids := make([]int64, len(chats))
	for i, ch := range chats {
		ids[i] = ch.ID
		if ch.ID == 0 {
			ids[i] = u.TelegramID
		}
	}
	counts, err := demo.Of(s.App).ChatMessageCounts(ctx, ids)
	if err != nil {
		s.log.Error("sandbox page", slog.Any("err", err))
	}
	for i := range chats {
		chats[i].Count, chats[i].Selected = counts[ids[i]], chats[i].ID == chatID
	}
	type userView struct {
		demo.User
		RoleName, UnitName string
	}
	view := func(x demo.User) userView {
		return userView{x, domain.RoleNames[x.Role], s.sandbox.unitName(x.UnitCode)}
	}
	// The identities by role, those the sandbox is mostly about first.
	type userGroup struct {
		Label string
		Users []userView
	}
	var users []userGroup
	for _, role := range []string{domain.RoleSecretary, domain.RoleVillager, domain.RoleReviewer, domain.RoleShopkeeper, domain.RoleOrganiser, domain.RoleAdmin} {
		g := userGroup{Label: domain.RoleNames[role]}
		for _, x := range s.sandbox.demo.Users {
			if x.Role == role {
				g.Users = append(g.Users, view(x))
			}
		}
		if len(g.Users) > 0 {
			users = append(users, g)
		}
	}
	type msgView struct {
		sandboxMsg
		At string
	}
	var views []msgView
	for _, m := range msgs {
		views = append(views, msgView{m, m.At.In(s.Config.Location()).Format("01-02 15:04:05")})
	}
	var title string
	for _, ch := range chats {
		if ch.Selected {
			title = ch.Title
		}
	}
	hints, note := s.sandboxHints(u, chatID)
	c.Status(http.StatusOK)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := tmpl.ExecuteTemplate(c.Writer, "sandbox", map[string]any{
		"Users": users, "User": view(u), "Chats": chats, "ChatID": chatID, "ChatTitle": title,
		"Messages": views, "Hints": hints, "HintNote": note,
	}); err != nil {
		s.log.Error("sandbox page", slog.Any("err", err))
	}
}

// sandboxSend sends what the person typed (or the hint they pressed) as a
// text message, or as a photo with that caption when they attached one or
// asked for the sample photo, and waits until the bot has answered.
func (s *Server) sandboxSend(c *gin.Context) {
	u, chatID, ok := s.sandboxUser(c)
	text := c.PostForm("text")
	photo, err := sandboxPhoto(c)
	if err != nil {
		s.log.Warn("sandbox photo", slog.Any("err", err))
	}
	if ok && (text != "" || photo != nil) {
		chat := s.sandboxChat(u, chatID)
		upd := s.Fake.TextMessage(chat, tgUser(u), text)
		if photo != nil {
			fileID := "AgACsandbox" + randomHex(8)
			s.Fake.AddFile(fileID, photo)
			upd = s.Fake.PhotoMessage(chat, tgUser(u), text, fileID)
		}
		s.deliverSandbox(c.Request.Context(), upd)
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/sandbox?user=%d&chat=%d", u.TelegramID, chatID))
}

// sandboxPhoto is the uploaded photo, the sample photo when "photo" is
// ticked, or nil.
func sandboxPhoto(c *gin.Context) ([]byte, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, 10<<20))
	}
	if c.PostForm("photo") == "" {
		return nil, nil
	}
	return samplePhoto(), nil
}

// samplePhoto is a small JPEG standing in for a photo taken on the spot.
func samplePhoto() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{R: 200, G: uint8(60 + y/2), B: uint8(40 + x/4), A: 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 70})
	return b.Bytes()
}

func (s *Server) sandboxTap(c *gin.Context) {
	u, chatID, ok := s.sandboxUser(c)
	mid, _ := strconv.Atoi(c.PostForm("message"))
	if ok {
		chat := s.sandboxChat(u, chatID)
		if m, found := s.Fake.Message(chat.ID, mid); found {
			s.deliverSandbox(c.Request.Context(), s.Fake.CallbackQuery(tgUser(u), m, c.PostForm("data")))
		}
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/sandbox?user=%d&chat=%d", u.TelegramID, chatID))
}

// deliverSandbox hands an update to the fake Bot API and waits (a few
// seconds at most) until the service has processed it and sent what it
// had to send, so that the page reloads with the answer.
func (s *Server) deliverSandbox(ctx context.Context, u models.Update) {
	ctx, cancel := context.WithTimeout(ctx, sandboxSettle)
	defer cancel()
	id, err := s.Fake.SendUpdateAndWait(ctx, u)
	if err != nil {
		s.log.Warn("sandbox: update not delivered", slog.Int64("update_id", id), slog.Any("err", err))
		return
	}
	for {
		done, err := demo.Of(s.App).UpdateSettled(ctx, id)
		if err != nil || done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}
