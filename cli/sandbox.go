package cli

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/web"
)

func runDemo(ctx context.Context, env Env, args []string) error {
	f := newFlags("demo", env)
	if _, err := f.parse(args); err != nil {
		return err
	}
	a, done, err := openApp(ctx, f)
	if err != nil {
		return err
	}
	defer done()
	d, err := a.LoadDemo(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "demo county loaded: %d units, %d people, %d group chats\n", len(d.Units)-1, len(d.Users), len(d.Groups))
	return nil
}

// seedSandbox loads the demo county into an empty sandbox database, so
// that `make run` on a fresh machine shows something to play with.
func seedSandbox(ctx context.Context, s *Server) error {
	if !s.Config.Sandbox.Demo {
		return nil
	}
	units, err := s.Store.AllUnits(ctx)
	if err != nil {
		return err
	}
	d := app.BuildDemo()
	if len(units) == 0 {
		if d, err = s.App.LoadDemo(ctx); err != nil {
			return fmt.Errorf("sandbox: demo data: %w", err)
		}
		s.log.Info("sandbox: demo county loaded", slog.Int("units", len(d.Units)-1), slog.Int("people", len(d.Users)))
	}
	s.sandbox = &sandbox{demo: d, srv: s}
	for _, g := range d.Groups {
		s.Fake.AddChat(s.Fake.Group(g.ChatID, g.Title))
	}
	return nil
}

// sandbox is the console at /sandbox: pick a demo person and a chat, talk to
// the bot through the fake Bot API, see its replies and tap its buttons.
type sandbox struct {
	demo app.Demo
	srv  *Server
	mu   sync.Mutex
	sent []sandboxMsg // what demo users said, per chat
}

type sandboxMsg struct {
	ChatID    int64
	Who, Text string
	At        time.Time
	Mine      bool
	MessageID int
	Buttons   []sandboxButton
}

type sandboxButton struct {
	Text, Data string
	MessageID  int
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

func (s *Server) sandboxUser(c *gin.Context, field string) (app.DemoUser, int64, bool) {
	if s.sandbox == nil || len(s.sandbox.demo.Users) == 0 {
		return app.DemoUser{}, 0, false
	}
	id, _ := strconv.ParseInt(c.Request.FormValue(field), 10, 64)
	u := s.sandbox.demo.Users[0]
	for _, x := range s.sandbox.demo.Users {
		if x.TelegramID == id {
			u = x
		}
	}
	chat, _ := strconv.ParseInt(c.Request.FormValue("chat"), 10, 64)
	return u, chat, true
}

func (s *Server) sandboxChat(u app.DemoUser, chatID int64) models.Chat {
	if chatID == 0 {
		return s.Fake.PrivateChat(models.User{ID: u.TelegramID, FirstName: u.Name})
	}
	for _, g := range s.sandbox.demo.Groups {
		if g.ChatID == chatID {
			return s.Fake.Group(g.ChatID, g.Title)
		}
	}
	return s.Fake.PrivateChat(models.User{ID: u.TelegramID, FirstName: u.Name})
}

func tgUser(u app.DemoUser) models.User {
	return models.User{ID: u.TelegramID, FirstName: u.Name, Username: fmt.Sprintf("demo%d", u.TelegramID)}
}

func (s *Server) sandboxPage(c *gin.Context, tmpl *template.Template) {
	u, chatID, ok := s.sandboxUser(c, "user")
	if !ok {
		c.String(http.StatusNotFound, "沙盒没有演示数据（sandbox.demo: false）")
		return
	}
	chat := s.sandboxChat(u, chatID)
	var msgs []sandboxMsg
	s.sandbox.mu.Lock()
	for _, m := range s.sandbox.sent {
		if m.ChatID == chat.ID {
			msgs = append(msgs, m)
		}
	}
	s.sandbox.mu.Unlock()
	for _, m := range s.Fake.MessagesTo(chat.ID) {
		sm := sandboxMsg{ChatID: chat.ID, Who: "机器人", Text: m.Plain, At: m.At, MessageID: m.MessageID}
		for _, row := range m.Keyboard {
			for _, b := range row {
				sm.Buttons = append(sm.Buttons, sandboxButton{Text: b.Text, Data: b.CallbackData, MessageID: m.MessageID})
			}
		}
		msgs = append(msgs, sm)
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].At.Before(msgs[j].At) })
	type userView struct {
		app.DemoUser
		RoleName string
	}
	var users []userView
	for _, x := range s.sandbox.demo.Users {
		users = append(users, userView{x, domain.RoleNames[x.Role]})
	}
	type msgView struct {
		sandboxMsg
		At string
	}
	var views []msgView
	for _, m := range msgs {
		views = append(views, msgView{m, m.At.In(s.Config.Location()).Format("01-02 15:04:05")})
	}
	c.Status(http.StatusOK)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := tmpl.ExecuteTemplate(c.Writer, "sandbox", map[string]any{
		"Users": users, "User": userView{u, domain.RoleNames[u.Role]}, "Groups": s.sandbox.demo.Groups, "ChatID": chatID, "Messages": views,
	}); err != nil {
		s.log.Error("sandbox page", slog.Any("err", err))
	}
}

func (s *Server) sandboxSend(c *gin.Context) {
	u, chatID, ok := s.sandboxUser(c, "user")
	text := c.PostForm("text")
	if ok && text != "" {
		chat := s.sandboxChat(u, chatID)
		s.sandbox.mu.Lock()
		s.sandbox.sent = append(s.sandbox.sent, sandboxMsg{ChatID: chat.ID, Who: u.Name, Text: text, At: s.Clock.Now(), Mine: true})
		s.sandbox.mu.Unlock()
		if _, err := s.Fake.SendUpdate(s.Fake.TextMessage(chat, tgUser(u), text)); err != nil {
			s.log.Warn("sandbox send", slog.Any("err", err))
		}
		time.Sleep(300 * time.Millisecond) // let the reply arrive before the page reloads
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/sandbox?user=%d&chat=%d", u.TelegramID, chatID))
}

func (s *Server) sandboxTap(c *gin.Context) {
	u, chatID, ok := s.sandboxUser(c, "user")
	mid, _ := strconv.Atoi(c.PostForm("message"))
	if ok {
		chat := s.sandboxChat(u, chatID)
		if m, found := s.Fake.Message(chat.ID, mid); found {
			if _, err := s.Fake.SendUpdate(s.Fake.CallbackQuery(tgUser(u), m, c.PostForm("data"))); err != nil {
				s.log.Warn("sandbox tap", slog.Any("err", err))
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/sandbox?user=%d&chat=%d", u.TelegramID, chatID))
}
