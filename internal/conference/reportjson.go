package conference

import (
	"encoding/json"
	"time"
)

// The JSON of a report writes every duration as a number of seconds
// (Seconds), as the conference's own settings are written, rather than
// the nanoseconds of a time.Duration. Each type below that holds a
// duration marshals through a plain copy of itself (without these
// methods) in which the duration fields are shadowed by Seconds of the
// same JSON name.

// MarshalJSON writes p with its connected and gap times in seconds.
func (p PointAttendance) MarshalJSON() ([]byte, error) {
	type plain PointAttendance
	return json.Marshal(struct {
		plain
		Connected Seconds `json:"connected"`
		GapTime   Seconds `json:"gap_time"`
	}{plain(p), Seconds(p.Connected), Seconds(p.GapTime)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *PointAttendance) UnmarshalJSON(data []byte) error {
	type plain PointAttendance
	v := struct {
		*plain
		Connected Seconds `json:"connected"`
		GapTime   Seconds `json:"gap_time"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	p.Connected, p.GapTime = time.Duration(v.Connected), time.Duration(v.GapTime)
	return nil
}

// MarshalJSON writes s with its connected time in seconds.
func (s Stay) MarshalJSON() ([]byte, error) {
	type plain Stay
	return json.Marshal(struct {
		plain
		Connected Seconds `json:"connected"`
	}{plain(s), Seconds(s.Connected)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Stay) UnmarshalJSON(data []byte) error {
	type plain Stay
	v := struct {
		*plain
		Connected Seconds `json:"connected"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	s.Connected = time.Duration(v.Connected)
	return nil
}

// MarshalJSON writes rc with its window in seconds.
func (rc RollCall) MarshalJSON() ([]byte, error) {
	type plain RollCall
	return json.Marshal(struct {
		plain
		Window Seconds `json:"window"`
	}{plain(rc), Seconds(rc.Window)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (rc *RollCall) UnmarshalJSON(data []byte) error {
	type plain RollCall
	v := struct {
		*plain
		Window Seconds `json:"window"`
	}{plain: (*plain)(rc)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	rc.Window = time.Duration(v.Window)
	return nil
}

// MarshalJSON writes t, its turn's fields among its own, with the turn's
// duration and limit in seconds.
func (t TurnEntry) MarshalJSON() ([]byte, error) {
	type plain TurnEntry
	return json.Marshal(struct {
		plain
		Duration Seconds `json:"duration"`
		Limit    Seconds `json:"limit"`
	}{plain(t), Seconds(t.Duration), Seconds(t.Limit)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *TurnEntry) UnmarshalJSON(data []byte) error {
	type plain TurnEntry
	v := struct {
		*plain
		Duration Seconds `json:"duration"`
		Limit    Seconds `json:"limit"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	t.Duration, t.Limit = time.Duration(v.Duration), time.Duration(v.Limit)
	return nil
}

// MarshalJSON writes s with its connected and speaking times in seconds.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return json.Marshal(struct {
		plain
		Connected    Seconds `json:"connected"`
		SpeakingTime Seconds `json:"speaking_time"`
	}{plain(s), Seconds(s.Connected), Seconds(s.SpeakingTime)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Summary) UnmarshalJSON(data []byte) error {
	type plain Summary
	v := struct {
		*plain
		Connected    Seconds `json:"connected"`
		SpeakingTime Seconds `json:"speaking_time"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	s.Connected, s.SpeakingTime = time.Duration(v.Connected), time.Duration(v.SpeakingTime)
	return nil
}
