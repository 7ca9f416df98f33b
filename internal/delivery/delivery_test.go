package delivery

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// The pool counts a job in hand from Submit until its fn has returned,
// signals each finish, and Close waits for the jobs in hand.
func TestPoolCountsJobsInHandAndCloseWaits(t *testing.T) {
	release := make(chan struct{})
	var ran atomic.Int64
	p := NewPool(2, func(int) {
		<-release
		ran.Add(1)
	})
	p.Submit(1)
	p.Submit(2)
	if p.InFlight() != 2 || p.Free() != 0 {
		t.Fatalf("in flight %d, free %d; want 2, 0", p.InFlight(), p.Free())
	}
	release <- struct{}{}
	select {
	case <-p.Finished():
	case <-time.After(5 * time.Second):
		t.Fatal("no finish signalled")
	}
	if p.InFlight() != 1 || p.Free() != 1 {
		t.Fatalf("after one: in flight %d, free %d", p.InFlight(), p.Free())
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned with a job in hand")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
	if ran.Load() != 2 || p.InFlight() != 0 {
		t.Fatalf("ran %d, in flight %d", ran.Load(), p.InFlight())
	}
}

// Write tries again while fn fails, each try with a live context of its
// own even when none is given, and returns the last error.
func TestWriteRetriesWithContextsOfItsOwn(t *testing.T) {
	old := writeDelays
	writeDelays = []time.Duration{0, time.Millisecond, time.Millisecond}
	t.Cleanup(func() { writeDelays = old })
	tries := 0
	err := Write(func(ctx context.Context) error {
		tries++
		if ctx.Err() != nil {
			t.Errorf("try %d got a done context", tries)
		}
		if tries < 2 {
			return errors.New("blip")
		}
		return nil
	})
	if err != nil || tries != 2 {
		t.Fatalf("Write: %v after %d tries, want success on the second", err, tries)
	}
	tries = 0
	err = Write(func(context.Context) error { tries++; return errors.New("down") })
	if err == nil || err.Error() != "down" || tries != 3 {
		t.Fatalf("Write on a failing fn: %v after %d tries, want the error after 3", err, tries)
	}
}

func TestBackoffDoublesWithEqualJitterUpToTheLimit(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 10: 5 * time.Second} {
		for range 50 {
			if d := Backoff(time.Second, 5*time.Second, n); d < want/2 || d > want {
				t.Fatalf("Backoff(1s, 5s, %d) = %s, want within [%s, %s]", n, d, want/2, want)
			}
		}
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a done context: %v", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Fatalf("Sleep(0): %v", err)
	}
}
