package ppptest

import "time"

// Clock is a fake clock for several restart timers: time moves only when
// Step is called, straight to the earliest deadline, so that timers fire in
// the order real time would fire them.
type Clock struct {
	Now    time.Duration // time elapsed since the clock was made
	timers []*Timer
}

// Timer is one restart timer on a Clock. Its Set method fits ppp.Config's
// Timer; when it fires, the Clock calls Fire (typically the automaton's
// Timeout).
type Timer struct {
	Fire     func()
	c        *Clock
	deadline time.Duration
	armed    bool
}

// NewTimer returns a stopped timer on c that calls fire when it expires.
func (c *Clock) NewTimer(fire func()) *Timer {
	t := &Timer{Fire: fire, c: c}
	c.timers = append(c.timers, t)
	return t
}

// Set arms t to fire d from now, or stops it when d is 0.
func (t *Timer) Set(d time.Duration) {
	t.armed = d > 0
	t.deadline = t.c.Now + d
}

// Armed reports whether t is armed.
func (t *Timer) Armed() bool { return t.armed }

// Step advances the clock to the earliest armed timer's deadline and fires
// that timer, which is disarmed first. It reports false, and does nothing,
// when no timer is armed.
func (c *Clock) Step() bool {
	var next *Timer
	for _, t := range c.timers {
		if t.armed && (next == nil || t.deadline < next.deadline) {
			next = t
		}
	}
	if next == nil {
		return false
	}
	c.Now = max(c.Now, next.deadline)
	next.armed = false
	if next.Fire != nil {
		next.Fire()
	}
	return true
}
