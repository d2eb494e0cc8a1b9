package signal

import (
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
)

// revokeSweepDelay is when Revoke looks a second time for connections of
// the revoked links: one admitted just before the revocation may register
// with the hub just after it.
const revokeSweepDelay = time.Second

// revokedMessage is the closing message of a revoked link's connection.
const revokedMessage = "Đường dẫn của điểm cầu đã bị thu hồi; vui lòng liên hệ kỹ thuật viên hội trường để nhận đường dẫn mới. " +
	"(This point's link was revoked; please call the hall technician for the new link.)"

// Revoke closes, with closing reason "revoked", every connection of point
// in conference conf that was admitted by a link older than version
// (token claim "ver" below it), and returns how many it closed. It looks
// again once a moment later, for a connection admitted before the
// revocation that had not yet registered. The page of a revoked link does
// not reconnect by itself.
func (h *Hub) Revoke(conf, point string, version int64) int {
	match := func(c *conn) bool {
		return c.conf == conf && c.role == conference.RolePoint && c.adm.Point.ID == point &&
			c.adm.Claims != nil && c.adm.Claims.Version < version
	}
	n := h.closeWhere(match, protocol.ReasonRevoked, revokedMessage)
	if n > 0 {
		h.log.Info("link revoked; connections closed", "conference", conf, "point", point, "version", version, "closed", n)
	}
	time.AfterFunc(revokeSweepDelay, func() {
		select {
		case <-h.done:
			return
		default:
		}
		if late := h.closeWhere(match, protocol.ReasonRevoked, revokedMessage); late > 0 {
			h.log.Info("link revoked; late connections closed", "conference", conf, "point", point, "closed", late)
		}
	})
	return n
}
