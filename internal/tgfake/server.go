package tgfake

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"github.com/zhibu/zhibu/internal/clock"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	Token     string // default "123456:TEST"
	BotID     int64  // default 123456
	Username  string // default "zhibu_bot"
	FirstName string // default "Zhibu"

	// Limits is the flood control; the zero value means DefaultLimits().
	// Use Limits{Disabled: true} to switch it off.
	Limits Limits

	// Now is the clock for message dates and recordings (default clock.Real().Now);
	// it is called from several goroutines. Rate limiting, long-poll
	// timeouts and webhook backoff use real time.
	Now func() time.Time

	// StrictChats makes calls to a chat the server has never seen (through
	// SendUpdate, a builder or AddChat) fail with "chat not found", like
	// Telegram. By default any numeric chat id is accepted.
	StrictChats bool

	WebhookAttempts int           // deliveries of one update before it is dropped (default 5)
	WebhookBackoff  time.Duration // delay before the first redelivery, doubled each time up to 2s (default 50ms)
	WebhookTimeout  time.Duration // per delivery (default 10s; Telegram waits about 60s)
	WebhookClient   *http.Client  // default: a client with WebhookTimeout

	// MaxRecords caps each recording list (calls, sent messages, callback
	// answers, webhook deliveries), dropping the oldest; 0 means unlimited.
	// Meant for the long-running sandbox.
	MaxRecords int
}

// Limits configures flood control. Each bucket refills at the given rate and
// holds at most Burst tokens; one send or edit takes one token from the global
// bucket and one from the chat's bucket. A zero rate disables that bucket.
type Limits struct {
	Disabled        bool
	GlobalPerSecond float64
	GlobalBurst     int
	ChatPerSecond   float64 // private chats (positive chat id)
	ChatBurst       int
	GroupPerMinute  float64 // groups, supergroups and channels (negative chat id)
	GroupBurst      int
}

// DefaultLimits returns Telegram's documented limits: 30 messages/s per bot,
// 1/s per private chat with bursts of 3, 20/minute per group.
func DefaultLimits() Limits {
	return Limits{
		GlobalPerSecond: 30, GlobalBurst: 30,
		ChatPerSecond: 1, ChatBurst: 3,
		GroupPerMinute: 20, GroupBurst: 20,
	}
}

// Errors from SendUpdate and SendUpdateAndWait.
var (
	ErrClosed   = errors.New("tgfake: server closed")
	ErrFiltered = errors.New("tgfake: update type excluded by allowed_updates")
	ErrDropped  = errors.New("tgfake: pending update dropped")
	ErrGaveUp   = errors.New("tgfake: webhook delivery gave up")
)

// Server is a fake Bot API server for one bot.
type Server struct {
	opts    Options
	now     func() time.Time
	me      models.User
	hclient *http.Client

	ctx    context.Context // cancelled by Close: stops the webhook deliverer
	cancel context.CancelFunc
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	httpSrv *http.Server
	url     string

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change (see notify)

	// recordings
	calls      []Call
	sent       []msgKey
	answers    []CallbackAnswer
	deliveries []WebhookDelivery
	tooMany    int

	// state
	msgs      map[msgKey]*Message // messages the bot sent, current content
	lastMsgID map[int64]int       // per chat, shared by users and the bot
	chats     map[int64]models.Chat
	commands  map[string][]models.BotCommand
	lastCmds  []models.BotCommand
	queries   map[string]*queryState
	queryseq  int64
	files     map[string]*storedFile
	fileseq   int

	// updates
	nextUpdateID int64
	queue        []queuedUpdate
	queueSeq     uint64
	allowed      []string // nil: Telegram's default set
	pollGen      uint64
	polls        int // getUpdates requests in progress
	hook         webhookState
	delivering   bool // deliverer goroutine started

	// failures
	failNext []scheduledFailure
	onCall   func(method string, params map[string]string) *Failure
	blocked  map[int64]bool
	migrated map[int64]int64

	// flood control
	limits  Limits
	global  *rate.Limiter
	perChat map[int64]*rate.Limiter
}

type msgKey struct {
	chat int64
	id   int
}

// New returns a Server with defaults filled in. It serves nothing until Start
// (or until Handler is mounted somewhere).
func New(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = "123456:TEST"
	}
	if opts.BotID == 0 {
		opts.BotID = 123456
	}
	if opts.Username == "" {
		opts.Username = "zhibu_bot"
	}
	if opts.FirstName == "" {
		opts.FirstName = "Zhibu"
	}
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits()
	}
	if opts.Now == nil {
		opts.Now = clock.Real().Now
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = 5
	}
	if opts.WebhookBackoff <= 0 {
		opts.WebhookBackoff = 50 * time.Millisecond
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = 10 * time.Second
	}
	s := &Server{
		opts: opts,
		now:  opts.Now,
		me: models.User{
			ID: opts.BotID, IsBot: true, FirstName: opts.FirstName, Username: opts.Username,
			CanJoinGroups: true,
		},
		hclient:      opts.WebhookClient,
		closed:       make(chan struct{}),
		changed:      make(chan struct{}),
		msgs:         map[msgKey]*Message{},
		lastMsgID:    map[int64]int{},
		chats:        map[int64]models.Chat{},
		commands:     map[string][]models.BotCommand{},
		queries:      map[string]*queryState{},
		files:        map[string]*storedFile{},
		nextUpdateID: 1,
		blocked:      map[int64]bool{},
		migrated:     map[int64]int64{},
	}
	if s.hclient == nil {
		s.hclient = &http.Client{Timeout: opts.WebhookTimeout}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.setLimits(opts.Limits)
	return s
}

// Start serves on a random port of 127.0.0.1.
func (s *Server) Start() error { return s.StartAt("127.0.0.1:0") }

// StartAt serves on addr (host:port) with a real net/http server.
func (s *Server) StartAt(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.httpSrv != nil {
		s.mu.Unlock()
		_ = ln.Close()
		return errors.New("tgfake: already started")
	}
	s.httpSrv = srv
	s.url = "http://" + ln.Addr().String()
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(ln)
	}()
	return nil
}

// URL is the base URL to pass to bot.WithServerURL ("" before Start).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.opts.Token }

// Bot is the bot's own user, as returned by getMe.
func (s *Server) Bot() models.User { return s.me }

// Handler serves the API; paths are /bot<token>/<method> and
// /file/bot<token>/<path>, so mount it at the root or behind http.StripPrefix.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close stops the HTTP server (releasing long polls) and the webhook
// deliverer, and fails pending SendUpdateAndWait calls with ErrClosed.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.cancel()
		s.mu.Lock()
		for i := range s.queue {
			s.queue[i].resolve(ErrClosed)
		}
		srv := s.httpSrv
		s.notify()
		s.mu.Unlock()
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if srv.Shutdown(ctx) != nil {
				_ = srv.Close()
			}
			cancel()
		}
		s.wg.Wait()
	})
}

// notify wakes everything waiting for a state change. Callers hold s.mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/file/bot"); ok {
		s.serveFile(w, rest)
		return
	}
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		writeJSON(w, http.StatusNotFound, errorBody(&Failure{Code: http.StatusNotFound, Description: "Not Found"}))
		return
	}
	token, method, _ := strings.Cut(rest, "/")
	s.serveAPI(w, r, token, method)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, token, name string) {
	params, uploads, perr := readParams(r)
	call := Call{Method: name, Params: params, At: s.now()}
	if len(uploads) > 0 {
		call.Uploads = map[string]string{}
		for k, u := range uploads {
			call.Uploads[k] = u.filename
		}
	}
	if token != s.opts.Token {
		s.respond(w, &call, nil, &Failure{Code: http.StatusUnauthorized, Description: "Unauthorized"})
		return
	}
	m, ok := methodTable[strings.ToLower(name)]
	if !ok {
		s.respond(w, &call, nil, &Failure{Code: http.StatusNotFound, Description: "Not Found"})
		return
	}
	call.Method = m.name
	if perr != nil {
		s.respond(w, &call, nil, badRequest(perr.Error()))
		return
	}

	s.mu.Lock()
	hook := s.onCall
	s.mu.Unlock()
	var f *Failure
	if hook != nil {
		f = hook(m.name, cloneMap(params))
	}
	if f == nil {
		f = s.takeScheduledFailure(m.name, params)
	}
	if f != nil {
		f = f.normalized()
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
			case <-s.closed:
			}
			t.Stop()
		}
		if f.Drop {
			s.record(call)
			dropConnection(w)
			return
		}
		if f.Code != 0 {
			s.respond(w, &call, nil, f)
			return
		}
	}
	res, f := m.fn(s, &apiCall{ctx: r.Context(), method: m.name, p: params, uploads: uploads})
	s.respond(w, &call, res, f)
}

// described is a result that also carries the "description" Telegram adds to
// some successful answers (setWebhook, deleteWebhook).
type described struct {
	result      any
	description string
}

func (s *Server) respond(w http.ResponseWriter, call *Call, res any, f *Failure) {
	if f != nil {
		call.Status = f.Code
		call.Description = f.Description
		s.record(*call)
		writeJSON(w, f.Code, errorBody(f))
		return
	}
	call.Status = http.StatusOK
	body := okBody{OK: true, Result: res}
	if d, ok := res.(described); ok {
		body.Result, body.Description = d.result, d.description
	}
	s.record(*call)
	writeJSON(w, http.StatusOK, body)
}

// Answer bodies, with Telegram's field order.
type okBody struct {
	OK          bool   `json:"ok"`
	Result      any    `json:"result"`
	Description string `json:"description,omitempty"`
}

type errBody struct {
	OK          bool       `json:"ok"`
	ErrorCode   int        `json:"error_code"`
	Description string     `json:"description"`
	Parameters  *errParams `json:"parameters,omitempty"`
}

type errParams struct {
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
	RetryAfter      int   `json:"retry_after,omitempty"`
}

func errorBody(f *Failure) errBody {
	b := errBody{ErrorCode: f.Code, Description: f.Description}
	if f.RetryAfter > 0 || f.MigrateToChatID != 0 {
		b.Parameters = &errParams{MigrateToChatID: f.MigrateToChatID, RetryAfter: f.RetryAfter}
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// dropConnection closes the connection without an answer, like a network
// failure between the bot and Telegram.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// trim keeps the newest max entries of a recording (max <= 0: all).
func trim[T any](xs []T, limit int) []T {
	if limit <= 0 || len(xs) <= limit {
		return xs
	}
	return append(xs[:0:0], xs[len(xs)-limit:]...)
}
