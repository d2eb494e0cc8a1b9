package server

import (
	"context"
	"errors"
	"fmt"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
)

// DemoID is the id of the demo conference.
const DemoID = "demo"

// demoConference and demoPoints are a small conference of Đồng Nai province:
// the provincial hall and three district points.
func demoConference() conference.Conference {
	return conference.Conference{
		ID:              DemoID,
		Title:           "Hội nghị thử nghiệm",
		Organizer:       "Văn phòng Tỉnh ủy Đồng Nai",
		TimeZone:        conference.DefaultTimeZone,
		TechnicianPhone: "0251 3822 123",
	}
}

func demoPoints() []conference.Point {
	return []conference.Point{
		{ID: "bien-hoa", Name: "Điểm cầu TP. Biên Hòa", District: "Thành phố Biên Hòa",
			Representative: "Nguyễn Văn Hùng", Phone: "0912 345 601", ExpectedDelegates: 40},
		{ID: "long-thanh", Name: "Điểm cầu huyện Long Thành", District: "Huyện Long Thành",
			Representative: "Trần Thị Mai", Phone: "0913 456 702", ExpectedDelegates: 25},
		{ID: "dinh-quan", Name: "Điểm cầu huyện Định Quán", District: "Huyện Định Quán",
			Representative: "Lê Minh Tuấn", Phone: "0914 567 803", ExpectedDelegates: 20},
	}
}

// Demo makes sure the demo conference and its three points exist, creating
// what is missing and leaving alone what a technician has changed. It
// returns the conference and all its points as stored.
func Demo(ctx context.Context, st *store.Store) (conference.Conference, []conference.Point, error) {
	c, err := st.Conference(ctx, DemoID)
	if errors.Is(err, store.ErrNotFound) {
		c = demoConference()
		err = st.PutConference(ctx, c)
	}
	if err != nil {
		return conference.Conference{}, nil, fmt.Errorf("demo conference: %w", err)
	}
	for _, p := range demoPoints() {
		_, err := st.Point(ctx, DemoID, p.ID)
		if errors.Is(err, store.ErrNotFound) {
			err = st.PutPoint(ctx, DemoID, p)
		}
		if err != nil {
			return conference.Conference{}, nil, fmt.Errorf("demo point %s: %w", p.ID, err)
		}
	}
	points, err := st.Points(ctx, DemoID)
	if err != nil {
		return conference.Conference{}, nil, fmt.Errorf("demo points: %w", err)
	}
	return c, points, nil
}
