package observe

// The counts of requests the feed did not send: write policies, mirror
// modes, recorded prod, skipped bad records.

// AddRecordedOnly counts an unsafe request of the endpoint that the
// "record-only" write policy logged instead of sending.
func (r *Results) AddRecordedOnly(endpoint string) {
	r.mu.Lock()
	r.byName[endpoint].RecordedOnly++
	r.mu.Unlock()
}

// AddNoRecording counts a request of the endpoint that was not sent
// because prod answers from the recording and it has no recorded response.
func (r *Results) AddNoRecording(endpoint string) {
	r.mu.Lock()
	r.byName[endpoint].NoRecording++
	r.mu.Unlock()
}

// AddFiltered counts a request the mirror mode did not send, by reason
// ("sampled out", "not selected").
func (r *Results) AddFiltered(reason string) {
	r.mu.Lock()
	if r.Filtered == nil {
		r.Filtered = map[string]int64{}
	}
	r.Filtered[reason]++
	r.mu.Unlock()
}

// AddBadRecord counts a malformed traffic record that was skipped.
func (r *Results) AddBadRecord() {
	r.mu.Lock()
	r.BadRecords++
	r.mu.Unlock()
}
