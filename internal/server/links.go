package server

import (
	"fmt"
	"net/url"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/token"
)

// Link is one signed join link of a conference.
type Link struct {
	Role    conference.Role `json:"role"`
	PointID string          `json:"point_id,omitempty"`
	Name    string          `json:"name"`
	URL     string          `json:"url"`
	// Token is the link's token on its own, for the links whose URL is
	// an endpoint entered with it in the Authorization: Bearer header
	// (ingest: WHIP, viewer: WHEP); the others carry it in URL.
	Token     string    `json:"token,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Page paths of the links, below the base URL.
const (
	PointPage   = "/point/"
	ConsolePage = "/console/"
	// SecretariatPage is the secretariat's attendance page.
	SecretariatPage = "/secretariat/"
)

// Links signs the join links of conf valid until expiry: the technician,
// chair (console page) and secretariat (secretariat page) at the hall, then one per point
// (point page), in the order of points. baseURL has no trailing slash.
func Links(iss *token.Issuer, baseURL string, conf conference.Conference, points []conference.Point, expiry time.Time) ([]Link, error) {
	links := make([]Link, 0, 3+len(points))
	add := func(role conference.Role, pointID, name, page string) error {
		t, err := iss.Issue(conf.ID, role, pointID, expiry)
		if err != nil {
			return fmt.Errorf("link of %s %s in %s: %w", role, pointID, conf.ID, err)
		}
		links = append(links, Link{
			Role:      role,
			PointID:   pointID,
			Name:      name,
			URL:       baseURL + page + "?t=" + url.QueryEscape(t),
			ExpiresAt: expiry.UTC().Truncate(time.Second),
		})
		return nil
	}
	for _, role := range []conference.Role{conference.RoleTechnician, conference.RoleChair, conference.RoleSecretariat} {
		page := ConsolePage
		if role == conference.RoleSecretariat {
			page = SecretariatPage
		}
		if err := add(role, "", conference.DisplayName(role, ""), page); err != nil {
			return nil, err
		}
	}
	for _, p := range points {
		if err := add(conference.RolePoint, p.ID, p.Name, PointPage); err != nil {
			return nil, err
		}
	}
	return links, nil
}

// MediaLinks signs the links of conf's media endpoints valid until
// expiry: the mixer's (role ingest, the WHIP endpoint) and a viewer's
// (role viewer, the WHEP endpoint), each URL the endpoint itself and the
// token apart, for the Authorization: Bearer header. baseURL has no
// trailing slash.
func MediaLinks(iss *token.Issuer, baseURL string, conf conference.Conference, expiry time.Time) ([]Link, error) {
	var links []Link
	for _, e := range []mediaEndpoint{whipEndpoint, whepEndpoint} {
		t, err := iss.Issue(conf.ID, e.role, "", expiry)
		if err != nil {
			return nil, fmt.Errorf("link of %s in %s: %w", e.role, conf.ID, err)
		}
		links = append(links, Link{Role: e.role, Name: conference.DisplayName(e.role, ""),
			URL: baseURL + e.path + conf.ID, Token: t, ExpiresAt: expiry.UTC().Truncate(time.Second)})
	}
	return links, nil
}
