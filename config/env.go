package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "15m", "72h" or "0" in YAML and env.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// WorkingDays is a count of working days (healthcheck.escalate_after):
// written 5 or 5d. Hours are refused: a working-day count has none.
type WorkingDays int

func (w *WorkingDays) UnmarshalText(b []byte) error {
	n, err := parseWorkingDays(string(b))
	if err != nil {
		return err
	}
	*w = WorkingDays(n)
	return nil
}

func (w WorkingDays) MarshalText() ([]byte, error) { return []byte(strconv.Itoa(int(w)) + "d"), nil }

func parseWorkingDays(s string) (int, error) {
	v := strings.TrimSuffix(strings.TrimSpace(s), "d")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a number of working days (write e.g. 5 or 5d; 0 = never)", s)
	}
	return n, nil
}

// parseDuration accepts Go durations plus a "d" suffix for days ("14d").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 15m, 72h, 14d)", s)
	}
	return v, nil
}

// leaf is one settable key: its dotted path and the struct field behind it.
type leaf struct {
	path  string
	value reflect.Value
}

// leaves lists every scalar or list key of cfg, in declaration order.
func leaves(v reflect.Value, prefix string) []leaf {
	var out []leaf
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(Duration(0)) {
			out = append(out, leaves(fv, path)...)
			continue
		}
		out = append(out, leaf{path: path, value: fv})
	}
	return out
}

// Keys lists every configuration key as a dotted path.
func Keys() []string {
	cfg := Default()
	var keys []string
	for _, l := range leaves(reflect.ValueOf(&cfg).Elem(), "") {
		keys = append(keys, l.path)
	}
	return keys
}

// EnvName is the environment variable that overrides a dotted key.
func EnvName(path string) string {
	return "ZHIBU_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

func applyEnv(cfg *Config, env []string) error {
	byName := map[string]leaf{}
	for _, l := range leaves(reflect.ValueOf(cfg).Elem(), "") {
		byName[EnvName(l.path)] = l
	}
	// Sorted so that the first error reported is stable.
	sort.Strings(env)
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "ZHIBU_") {
			continue
		}
		l, known := byName[name]
		if !known {
			return fmt.Errorf("config: unknown environment variable %s (no such key)", name)
		}
		if err := setFromString(l.value, val); err != nil {
			return fmt.Errorf("config: %s (key %s): %w", name, l.path, err)
		}
	}
	return nil
}

func setFromString(v reflect.Value, s string) error {
	// Duration and WorkingDays read themselves, as they do from YAML.
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(s))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(int64(n))
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Int {
			// A list of numbers: "100,200,300".
			nums := []int{}
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				n, err := strconv.Atoi(p)
				if err != nil {
					return fmt.Errorf("%q is not a comma-separated list of integers", s)
				}
				nums = append(nums, n)
			}
			v.Set(reflect.ValueOf(nums))
			return nil
		}
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("this key cannot be set from the environment; use the config file")
		}
		parts := []string{}
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("this key cannot be set from the environment; use the config file")
	}
	return nil
}
