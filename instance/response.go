package instance

import (
	"encoding/json"
	"time"
)

// Response is zitadel.system.v1.CreateInstanceResponse in proto3 JSON:
// empty fields are omitted, details.sequence is a string, machineKey is
// standard base64 (encoding/json's []byte) of the key file.
type Response struct {
	InstanceID string   `json:"instanceId,omitempty"`
	Details    *Details `json:"details,omitempty"`
	PAT        string   `json:"pat,omitempty"`
	MachineKey []byte   `json:"machineKey,omitempty"`
}

// Details is zitadel.v1.ObjectDetails. ChangeDate is not set on creation.
type Details struct {
	Sequence      uint64 `json:"sequence,omitempty,string"`
	CreationDate  string `json:"creationDate,omitempty"`
	ChangeDate    string `json:"changeDate,omitempty"`
	ResourceOwner string `json:"resourceOwner,omitempty"`
}

// NewResponse returns the answer for a planned instance and its secrets:
// details.resourceOwner is the first org, details.creationDate the plan's
// CreatedAt.
func NewResponse(p Plan, s Secrets) Response {
	return Response{
		InstanceID: p.InstanceID,
		Details: &Details{
			Sequence:      p.Sequence,
			CreationDate:  Timestamp(p.CreatedAt),
			ResourceOwner: p.Org.ID,
		},
		PAT:        s.PAT,
		MachineKey: s.MachineKeyFile,
	}
}

// Marshal returns r as JSON.
func (r Response) Marshal() ([]byte, error) { return json.Marshal(r) }

// Timestamp formats t as protojson formats a google.protobuf.Timestamp:
// RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.
func Timestamp(t time.Time) string {
	t = t.UTC()
	switch ns := t.Nanosecond(); {
	case ns == 0:
		return t.Format("2006-01-02T15:04:05Z")
	case ns%1_000_000 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1_000 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}
