package api

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// listTransactions serves ListTransactions (key 66): the transactional ids
// this broker coordinates, filtered by state, producer id and (v1+) how
// long the transaction has run. Unknown state names come back in
// UnknownStateFilters.
func (h *Handler) listTransactions(req *kmsg.ListTransactionsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	if h.d.Txn == nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	duration := int64(-1)
	if req.Version >= 1 {
		duration = req.DurationFilterMillis
	}
	list, unknown, err := h.d.Txn.List(req.StateFilters, req.ProducerIDFilters, duration)
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	resp.UnknownStateFilters = unknown
	if resp.UnknownStateFilters == nil {
		resp.UnknownStateFilters = []string{}
	}
	for _, l := range list {
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = l.TransactionalID, l.ProducerID, l.State.String()
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp
}
