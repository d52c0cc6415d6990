package endpoint

import (
	"context"
	"log/slog"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/cloudapi"
)

// findTemplate looks up the template a send request names: 132001 when
// there is none in that language or it is not approved (yet), 132015 when
// it is paused, 132016 when it is disabled.
func findTemplate(ctx context.Context, lookup func(ctx context.Context, name, language string) (*cloudapi.TemplateDefinition, string, error),
	t *cloudapi.Template, log *slog.Logger) (*cloudapi.TemplateDefinition, *cloudapi.Error) {
	if t == nil {
		return nil, cloudapi.Missing("template")
	}
	notFound := cloudapi.Errorf(cloudapi.CodeTemplateNotFound, "template name (%s) does not exist in %s", t.Name, t.Language.Code)
	if lookup == nil {
		return nil, notFound
	}
	def, status, err := lookup(ctx, t.Name, t.Language.Code)
	switch {
	case kontor.KindOf(err) == kontor.NotFound, err == nil && def == nil:
		return nil, notFound
	case kontor.KindOf(err) == kontor.Unavailable:
		return nil, cloudapi.NewError(cloudapi.CodeServiceUnavailable, "The template could not be looked up; try again.")
	case err != nil:
		log.Error("looking up a template", "template", t.Name, "language", t.Language.Code, "err", err)
		return nil, cloudapi.Internal()
	}
	switch status {
	case "APPROVED":
		return def, nil
	case "PAUSED":
		return nil, cloudapi.Errorf(cloudapi.CodeTemplatePaused, "The template %s in %s is paused.", t.Name, t.Language.Code)
	case "DISABLED":
		return nil, cloudapi.Errorf(cloudapi.CodeTemplateDisabled, "The template %s in %s is disabled.", t.Name, t.Language.Code)
	}
	return nil, cloudapi.Errorf(cloudapi.CodeTemplateNotFound, "template name (%s) in %s is not approved (its status is %s)", t.Name, t.Language.Code, status)
}
