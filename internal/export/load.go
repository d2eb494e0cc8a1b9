package export

import (
	"context"
	"fmt"
	"time"

	"hoinghi/internal/conference"
)

// Source is where Load reads a conference from; *store.Store is one.
type Source interface {
	Conference(ctx context.Context, id string) (conference.Conference, error)
	Points(ctx context.Context, confID string) ([]conference.Point, error)
	AttendanceEvents(ctx context.Context, confID string) ([]conference.AttendanceEvent, error)
	Turns(ctx context.Context, confID string) ([]conference.Turn, error)
}

// Load reads conference confID with its points, attendance events and
// speaking log from src and returns its report as of now. Errors from src
// are wrapped, so that a caller can still tell a missing conference.
func Load(ctx context.Context, src Source, confID string, now time.Time) (conference.Report, error) {
	c, err := src.Conference(ctx, confID)
	if err != nil {
		return conference.Report{}, fmt.Errorf("report of %s: %w", confID, err)
	}
	points, err := src.Points(ctx, confID)
	if err != nil {
		return conference.Report{}, fmt.Errorf("report of %s: points: %w", confID, err)
	}
	events, err := src.AttendanceEvents(ctx, confID)
	if err != nil {
		return conference.Report{}, fmt.Errorf("report of %s: attendance: %w", confID, err)
	}
	turns, err := src.Turns(ctx, confID)
	if err != nil {
		return conference.Report{}, fmt.Errorf("report of %s: speaking log: %w", confID, err)
	}
	return conference.BuildReport(c, points, events, turns, now), nil
}
