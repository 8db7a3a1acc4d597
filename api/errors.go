package api

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/admin"
)

// errorCode maps an error to the Kafka error code it carries (0 for nil,
// UNKNOWN_SERVER_ERROR when it carries none). This is the one place where
// Go errors become wire codes.
func errorCode(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// errorMessage is the message to send with an error code: admin errors
// carry Kafka's exact text; other errors their Go message; nil when the
// code's default text would be repeated.
func errorMessage(err error) *string {
	if err == nil {
		return nil
	}
	var ae *admin.Error
	if errors.As(err, &ae) {
		return ae.WireMessage()
	}
	var we *wireError
	if errors.As(err, &we) {
		m := we.msg
		return &m
	}
	m := err.Error()
	return &m
}

// wireError is a Kafka error code with the exact message Kafka sends with
// it (a custom exception's text).
type wireError struct {
	code *kerr.Error
	msg  string
}

func (e *wireError) Error() string { return e.msg + ": " + e.code.Message }
func (e *wireError) Unwrap() error { return e.code }
