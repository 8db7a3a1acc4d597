package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/model"
)

// maxControlledShutdownVersion is the newest ControlledShutdown version
// this broker sends.
const maxControlledShutdownVersion = 3

// controlledShutdown is the first step of Close (Kafka's
// KafkaServer.controlledShutdown): with controlled.shutdown.enable, a
// broker that is registered asks the controller to move its leaderships
// away, so clients switch to the new leaders before this broker stops
// answering. It gives up after controlled.shutdown.max.retries attempts and
// the shutdown goes on anyway.
func (b *Broker) controlledShutdown() {
	epoch := b.brokerEpoch.Load()
	if b.cache == nil || b.sessionDone == nil || epoch <= 0 {
		return // never registered: nobody counts on this broker
	}
	if !b.cfg.ControlledShutdownEnable {
		b.log.Info().Msg("controlled.shutdown.enable is false; shutting down without moving leaderships")
		return
	}
	s := &shutdownRequester{
		id: b.id, epoch: epoch,
		maxRetries: int(b.cfg.ControlledShutdownMaxRetries),
		backoff:    time.Duration(b.cfg.ControlledShutdownRetryBackoffMs) * time.Millisecond,
		timeout:    time.Duration(b.cfg.RequestTimeoutMs) * time.Millisecond,
		controller: b.controllerAddr,
		log:        b.log,
	}
	s.run(context.Background())
}

// shutdownRequester sends ControlledShutdown to the current controller
// until it succeeds or the attempts are used up.
type shutdownRequester struct {
	id         model.BrokerID
	epoch      int64
	maxRetries int
	backoff    time.Duration
	timeout    time.Duration // per request (request.timeout.ms, as Kafka's shutdown client)
	// controller is the controller's id and inter-broker address from the
	// metadata cache (Broker.controllerAddr), asked again before every
	// attempt since the controller may move meanwhile.
	controller func() (model.BrokerID, string, bool)
	log        zerolog.Logger
}

// run makes up to maxRetries attempts with backoff between them (as in
// Kafka, the setting counts attempts) and reports whether one succeeded:
// the controller answered without error and no partition left to move.
func (s *shutdownRequester) run(ctx context.Context) bool {
	start := time.Now()
	s.log.Info().Int64("brokerEpoch", s.epoch).Msg("starting controlled shutdown")
	for remaining := s.maxRetries; remaining > 0; {
		remaining--
		if s.attempt(ctx) {
			s.log.Info().Dur("took", time.Since(start)).Msg("controlled shutdown succeeded: the controller moved every leadership away")
			return true
		}
		if remaining == 0 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.backoff):
		}
		s.log.Info().Int("retriesLeft", remaining).Msg("retrying controlled shutdown")
	}
	s.log.Warn().Dur("took", time.Since(start)).Int("attempts", s.maxRetries).
		Msg("controlled shutdown failed; shutting down anyway: the partitions this broker still leads get a new leader only when its registration goes")
	return false
}

// attempt resolves the controller, picks the request version it supports
// and sends one ControlledShutdown.
func (s *shutdownRequester) attempt(ctx context.Context) bool {
	ctrl, addr, ok := s.controller()
	if !ok {
		if ctrl < 0 {
			s.log.Info().Msg("controlled shutdown: no controller known yet")
		} else {
			s.log.Info().Int32("controller", int32(ctrl)).Msg("controlled shutdown: the controller has no known endpoint on the inter-broker listener")
		}
		return false
	}
	resp, version, err := s.send(ctx, addr)
	if err != nil {
		s.log.Warn().Err(err).Int32("controller", int32(ctrl)).Str("addr", addr).Msg("controlled shutdown request failed")
		return false
	}
	var remaining []string
	for _, p := range resp.PartitionsRemaining {
		remaining = append(remaining, fmt.Sprintf("%s-%d", p.Topic, p.Partition))
	}
	if resp.ErrorCode != 0 {
		s.log.Info().Int32("controller", int32(ctrl)).Int16("version", version).Str("error", kerr.ErrorForCode(resp.ErrorCode).Error()).
			Msg("controlled shutdown refused by the controller")
		return false
	}
	if len(remaining) > 0 {
		s.log.Info().Int32("controller", int32(ctrl)).Int16("version", version).Strs("remainingPartitions", remaining).
			Msg("controlled shutdown: partitions still led by this broker")
		return false
	}
	s.log.Info().Int32("controller", int32(ctrl)).Int16("version", version).Msg("controlled shutdown accepted by the controller")
	return true
}

// send asks the controller at addr for its ApiVersions, then sends
// ControlledShutdown at the newest version both sides know.
func (s *shutdownRequester) send(ctx context.Context, addr string) (*kmsg.ControlledShutdownResponse, int16, error) {
	conn := interbroker.NewConn(addr, strconv.Itoa(int(s.id)), s.timeout)
	defer conn.Close()
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "kbroker", "3.9"
	r, err := conn.Request(ctx, av)
	if err != nil {
		return nil, 0, err
	}
	avr := r.(*kmsg.ApiVersionsResponse)
	if avr.ErrorCode != 0 {
		return nil, 0, fmt.Errorf("ApiVersions: %w", kerr.ErrorForCode(avr.ErrorCode))
	}
	version := int16(-1)
	for _, k := range avr.ApiKeys {
		if k.ApiKey == 7 && k.MinVersion <= maxControlledShutdownVersion {
			version = min(k.MaxVersion, maxControlledShutdownVersion)
		}
	}
	if version < 0 {
		return nil, 0, errors.New("the controller supports no ControlledShutdown version up to 3")
	}
	req := kmsg.NewPtrControlledShutdownRequest()
	req.Version = version
	req.BrokerID = int32(s.id)
	req.BrokerEpoch = s.epoch // not on the wire before v2
	if version == 0 {
		// v0 has request header v0, which the inter-broker client does
		// not write: its own connection.
		resp, err := controlledShutdownV0(ctx, addr, s.timeout, req)
		return resp, 0, err
	}
	r, err = conn.Request(ctx, req)
	if err != nil {
		return nil, version, err
	}
	return r.(*kmsg.ControlledShutdownResponse), version, nil
}

// controlledShutdownV0 sends ControlledShutdown v0 on a connection of its
// own: request header v0 is api key, version and correlation id, without
// the client id. The response (header v0) is the correlation id and the
// body.
func controlledShutdownV0(ctx context.Context, addr string, timeout time.Duration, req *kmsg.ControlledShutdownRequest) (*kmsg.ControlledShutdownResponse, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if err := nc.SetDeadline(deadline); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	const corr = 1
	frame := make([]byte, 4, 16)
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.Key()))
	frame = binary.BigEndian.AppendUint16(frame, 0)
	frame = binary.BigEndian.AppendUint32(frame, corr)
	frame = req.AppendTo(frame)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	if _, err := nc.Write(frame); err != nil {
		return nil, fmt.Errorf("ControlledShutdown v0 to %s: %w", addr, err)
	}
	var size [4]byte
	if _, err := io.ReadFull(nc, size[:]); err != nil {
		return nil, fmt.Errorf("ControlledShutdown v0 to %s: %w", addr, err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 1<<20 {
		return nil, fmt.Errorf("ControlledShutdown v0 to %s: invalid response size %d", addr, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(nc, body); err != nil {
		return nil, fmt.Errorf("ControlledShutdown v0 to %s: %w", addr, err)
	}
	if got := binary.BigEndian.Uint32(body); got != corr {
		return nil, fmt.Errorf("ControlledShutdown v0 to %s: correlation id %d, want %d", addr, got, corr)
	}
	resp := req.ResponseKind().(*kmsg.ControlledShutdownResponse)
	if err := resp.ReadFrom(body[4:]); err != nil {
		return nil, fmt.Errorf("ControlledShutdown v0 to %s: %w", addr, err)
	}
	return resp, nil
}
