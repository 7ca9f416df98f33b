// Package cli is the zhibu command line: one binary with subcommands. Run
// takes its arguments, streams and environment as parameters so that tests
// drive it like an operator would.
package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/clock"
)

// Env is what a subcommand gets.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Environ        []string
	// Clock is the one source of "now" for every command: nil means the wall
	// clock (clock.Real); tests pass their fake clock so that a CLI run inside
	// a test lives on the test's day.
	Clock clockwork.Clock
}

// clock is the command's source of "now".
func (e Env) clock() clockwork.Clock {
	if e.Clock == nil {
		return clock.Real()
	}
	return e.Clock
}

type subcommand struct {
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

// usageError is bad input on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// parseID reads the id argument of a subcommand ("webhook delete 7"); hint
// follows the usage error ("" or " (see zhibu token list)").
func parseID(what, arg, hint string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%s id %q: not a number%s", what, arg, hint)
	}
	return id, nil
}

// idArg is the check of a verb whose one argument is an id of what
// ("webhook delete 7"): it reads it into *id; usage is the error when the
// arguments are not one.
func idArg(id *int64, what string, pos []string, usage string) func() error {
	return func() error {
		if len(pos) != 1 {
			return usageError{usage}
		}
		var err error
		*id, err = parseID(what, pos[0], "")
		return err
	}
}

// verb is one verb of a command that has several (`zhibu robot add|list|…`):
// check refuses bad arguments before the database is opened (nil: none to
// check), run does the work.
type verb struct {
	check func() error
	run   func(a *app.App) error
}

// runVerb checks and runs verbs[name] on the opened app; an unknown verb is
// a usage error.
func runVerb(ctx context.Context, f *flags, name, usage string, verbs map[string]verb) error {
	v, ok := verbs[name]
	if !ok {
		return usageError{usage}
	}
	if v.check != nil {
		if err := v.check(); err != nil {
			return err
		}
	}
	return withApp(ctx, f, v.run)
}

// parseVerb parses a command whose first argument is its verb (`zhibu robot
// add …`): the flags and arguments after the verb; no verb is the usage
// error. The verb joins the command's name, as -h's usage line shows it.
func (f *flags) parseVerb(args []string, usage string) ([]string, error) {
	if len(args) == 0 {
		return nil, usageError{usage}
	}
	f.Init(f.Name()+" "+args[0], flag.ContinueOnError)
	return f.parse(args[1:])
}

// usageUnless is a check that refuses with usage when bad.
func usageUnless(bad bool, usage string) func() error {
	return func() error {
		if bad {
			return usageError{usage}
		}
		return nil
	}
}

// instant reads an --at flag: the command's now when it is empty, else an
// RFC 3339 instant; badf formats the usage error from the flag's value.
func (e Env) instant(at, badf string) (time.Time, error) {
	if at == "" {
		return e.clock().Now(), nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return time.Time{}, usagef(badf, at)
	}
	return t, nil
}

// writeList prints the CSV a list subcommand answers: header, then the
// record of each of the n rows.
func writeList(w io.Writer, header []string, n int, record func(i int) []string) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	for i := range n {
		_ = cw.Write(record(i))
	}
	cw.Flush()
	return cw.Error()
}

// Run runs one command line and returns the exit status.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	sc, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "zhibu: unknown command %q\n", args[0])
		usage(env.Stderr)
		return 1
	}
	if err := sc.run(ctx, env, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(env.Stderr, "zhibu %s: %s\n", args[0], errorLine(err))
		return 1
	}
	return 0
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// errorLine is the one stderr line for a failed command. A refusal
// (domain.UserError, e.g. 没有编码为 NOPE 的单位。) is shown in its own words,
// keeping only the context the command put before it (a file and row) and
// dropping the internal chain ("storage: unit NOPE: …") between the two.
// Other errors are the operator's to read and keep their chain.
func errorLine(err error) string {
	var ue *domain.UserError
	if !errors.As(err, &ue) {
		return oneLine(err)
	}
	msg, prefix := err.Error(), ""
	if strings.HasSuffix(msg, ue.Msg) {
		prefix = strings.TrimSuffix(msg, ue.Msg)
		if i := strings.Index(prefix, "storage: "); i >= 0 {
			prefix = prefix[:i]
		}
	}
	return strings.ReplaceAll(prefix+ue.Msg, "\n", "; ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: zhibu <command> [--config PATH] [flags]\n\ncommands:")
	for _, n := range Subcommands() {
		fmt.Fprintf(w, "  %-12s %s\n", n, subcommands[n].summary)
	}
}

// flags makes a FlagSet with --config; parse errors become usage errors.
type flags struct {
	*flag.FlagSet
	config string
	env    Env
}

func newFlags(name string, env Env) *flags {
	f := &flags{FlagSet: flag.NewFlagSet("zhibu "+name, flag.ContinueOnError), env: env}
	f.SetOutput(env.Stderr)
	f.StringVar(&f.config, "config", "config.yaml", "configuration file (missing default file = built-in defaults)")
	return f
}

// parse parses flags; flags may come before or after positional arguments.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (f *flags) loadConfig() (config.Config, error) {
	return config.LoadFile(f.config, f.configGiven(), f.env.Environ)
}

// configGiven reports whether --config was on the command line (a missing
// file it names is an error; the missing default file is not).
func (f *flags) configGiven() bool {
	given := false
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == "config" {
			given = true
		}
	})
	return given
}

// parseConfig parses a command that takes no flag but --config (its
// arguments are not looked at) and loads the configuration.
func (f *flags) parseConfig(args []string) (config.Config, error) {
	if _, err := f.parse(args); err != nil {
		return config.Config{}, err
	}
	return f.loadConfig()
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if logFormat(cfg.Log.Format, w) == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// logFormat resolves log.format: "json" and "text" are taken as set; "auto"
// (the default) is text when w is a terminal, where a person reads it, and
// JSON otherwise (a file, a pipe, a log collector, a test's buffer).
func logFormat(format string, w io.Writer) string {
	switch format {
	case "json", "text":
		return format
	}
	if isTerminal(w) {
		return "text"
	}
	return "json"
}

// isTerminal reports whether w is a character device (a terminal) without a
// dependency: a regular file, a pipe or a buffer is not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// withApp loads config, connects and migrates, runs use and closes the
// database: what the one-shot commands share.
func withApp(ctx context.Context, f *flags, use func(a *app.App) error) error {
	cfg, err := f.loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg, f.env.Stderr)
	store, err := app.OpenDatabase(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	return use(app.New(store, cfg, f.env.clock().Now, log))
}

// Main is the process entry point.
func Main() int {
	ctx, stop := signalContext()
	defer stop()
	return Run(ctx, os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()})
}
