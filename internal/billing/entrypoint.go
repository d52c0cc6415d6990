package billing

import "time"

// EntryPoint is what a business number knows of a person's free
// entry-point window: when their latest message carrying a referral (an
// ad or a click-to-chat link) came, and when the business's first
// message after it went out, if that was inside the customer service
// window the referral's message opened. Zero times: never.
type EntryPoint struct {
	Referral time.Time
	Opened   time.Time
}

// open says whether e's window was opened by a reply to its referral
// (not by one to an older referral).
func (e EntryPoint) open() bool { return !e.Opened.IsZero() && !e.Opened.Before(e.Referral) }

// EntryPointAt says whether a business message sent at is inside a free
// entry-point window under r, and whether it is the one that opens it.
// The public model, as kontor reads it: a person starts a chat from an
// ad or a link with a referral; when the business answers within the
// customer service window (window, 24 hours) of that message, the free
// entry-point window opens with that answer and lasts EntryPointHours;
// every message the business sends in it is free. An answer after the
// service window opens none. 0 EntryPointHours: no such windows.
func (r Rules) EntryPointAt(e EntryPoint, at time.Time, window time.Duration) (in, opens bool) {
	if r.EntryPointHours <= 0 || e.Referral.IsZero() {
		return false, false
	}
	if e.open() {
		return at.Before(e.Opened.Add(time.Duration(r.EntryPointHours) * time.Hour)), false
	}
	if !at.Before(e.Referral) && at.Sub(e.Referral) <= window {
		return true, true
	}
	return false, false
}

// TakesReferral says whether a person's message with a referral at at
// starts a new entry-point window: not while one is open or waiting for
// the business's answer (a person who taps the ad again does not stretch
// the window).
func (r Rules) TakesReferral(e EntryPoint, at time.Time, window time.Duration) bool {
	if e.Referral.IsZero() {
		return true
	}
	if e.open() {
		return !at.Before(e.Opened.Add(time.Duration(r.EntryPointHours) * time.Hour))
	}
	return at.Sub(e.Referral) > window
}
