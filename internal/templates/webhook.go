package templates

import (
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// statusValue is the value of a message_template_status_update change:
// the public fields, with rejection_info on a rejection.
type statusValue struct {
	cloudapi.TemplateStatusUpdate
	RejectionInfo *rejectionInfo `json:"rejection_info,omitempty"`
}

type rejectionInfo struct {
	Reason         string `json:"reason"`
	Recommendation string `json:"recommendation"`
}

// Webhook returns the public message_template_status_update webhook of c:
// a stable id (the same change gives the same id, so that a receiver can
// drop a repeat) and the body, encoded as the public service does (ASCII
// only; sign exactly these bytes). The language is written en-US, as the
// public webhook does.
func (c Change) Webhook() (id string, body []byte, err error) {
	t := c.Template
	u := cloudapi.TemplateStatusUpdate{Event: c.Event, MessageTemplateID: int64(t.ID), MessageTemplateName: t.Name,
		MessageTemplateLanguage: strings.ReplaceAll(t.Language, "_", "-"), Reason: c.Reason, MessageTemplateCategory: t.Category}
	if u.Reason == "" {
		u.Reason = ReasonNone
	}
	v := statusValue{TemplateStatusUpdate: u}
	if c.Event == string(Rejected) {
		v.RejectionInfo = &rejectionInfo{Reason: c.Reason, Recommendation: c.Detail}
	}
	n := cloudapi.TemplateStatusNotification(t.Business.String(), c.At, u)
	n.Entry[0].Changes[0].Value = v
	body, err = cloudapi.EncodeWebhook(n)
	if err != nil {
		return "", nil, err
	}
	id = "template." + t.ID.String() + "." + strings.ToLower(c.Event) + "." + strconv.FormatInt(c.At.UnixMilli(), 10)
	return id, body, nil
}
