package txn

import (
	"context"
)

// abortTimedOut aborts the ongoing transactions that have run longer than
// their timeout (every transaction.abort.timed.out.transaction.cleanup.interval.ms):
// the epoch is bumped, which fences the producer, and the abort markers
// carry the bumped epoch.
func (c *Coordinator) abortTimedOut() {
	now := c.nowMs()
	for _, s := range c.allShards() {
		for _, m := range s.all() {
			m.mu.Lock()
			if m.state != Ongoing || m.pending != nil || m.startMs+int64(m.timeoutMs) >= now {
				m.mu.Unlock()
				continue
			}
			t, err := m.prepareFenceLocked(now)
			m.mu.Unlock()
			if err != nil {
				continue
			}
			c.lg.Info().Str("transactionalId", m.id).Int64("producerId", t.producerID).Int16("epoch", t.epoch).
				Msg("aborting a timed-out transaction")
			ctx, cancel := context.WithTimeout(s.ctx, c.cfg.AppendTimeout)
			if err := c.endTxn(ctx, m.id, t.producerID, t.epoch, false, false); err != nil {
				c.lg.Warn().Err(err).Str("transactionalId", m.id).Msg("aborting a timed-out transaction failed")
			}
			cancel()
		}
	}
}

// removeExpired removes the transactional ids not used for
// transactional.id.expiration.ms that have no transaction in progress: a
// tombstone is written, then the id is forgotten.
func (c *Coordinator) removeExpired() {
	now := c.nowMs()
	exp := c.cfg.IDExpiration.Milliseconds()
	for _, s := range c.allShards() {
		for _, m := range s.all() {
			m.mu.Lock()
			st := m.state
			if (st != Empty && st != CompleteCommit && st != CompleteAbort) || m.pending != nil || m.lastUpdateMs+exp > now {
				m.mu.Unlock()
				continue
			}
			t, err := m.prepareDeadLocked(now)
			m.mu.Unlock()
			if err != nil {
				continue
			}
			if err := c.write(s.ctx, s, m, t); err != nil {
				c.lg.Warn().Err(err).Str("transactionalId", m.id).Msg("removing an expired transactional id failed")
				continue
			}
			s.remove(m)
			c.lg.Info().Str("transactionalId", m.id).Msg("removed an expired transactional id")
		}
	}
}
