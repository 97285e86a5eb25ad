package app

import (
	"context"
	"fmt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
)

// recipientClient builds the SOAP client of a school's uwlr recipient: its
// own endpoint, key and klantcode, no client certificate (that is the
// LAS's), and every secret of the school to scrub from its answers.
func (a *App) recipientClient(s gateway.School, r gateway.Recipient) (*soap.Client, string, error) {
	if err := gateway.CheckEgressURL(r.URL); err != nil {
		return nil, "", fmt.Errorf("recipient %s of school %s: %w", r.Name, s.ID, err)
	}
	key, err := a.open(recipientPlace(s.ID, r.Name, "key"), r.SealedKey)
	if err != nil {
		return nil, "", fmt.Errorf("recipient %s of school %s: open key: %w", r.Name, s.ID, err)
	}
	sec, err := a.openSecrets(s)
	if err != nil {
		return nil, "", err
	}
	conn := a.baseConnection(s)
	conn.Endpoint, conn.Autorisatiesleutel, conn.QuoteSOAPAction = r.URL, string(key), r.QuoteSOAPAction
	conn.Klantcode, conn.Klantnaam, conn.Xsdversie = or(r.Klantcode, s.Klantcode), or(r.Klantnaam, s.Klantnaam), or(r.Xsdversie, s.Xsdversie)
	conn.Gegevenssetid, conn.Secrets = "", sec.all()
	hc, err := a.httpClient(s, false)
	if err != nil {
		return nil, "", err
	}
	return soap.NewClient(hc, conn), r.URL, nil
}

// pusher posts signed JSON to a school's webhook recipient; it never
// follows a redirect.
func (a *App) pusher(s gateway.School, r gateway.Recipient) (delivery.Pusher, error) {
	if err := gateway.CheckEgressURL(r.URL); err != nil {
		return nil, fmt.Errorf("recipient %s of school %s: %w", r.Name, s.ID, err)
	}
	secret, err := a.open(recipientPlace(s.ID, r.Name, "secret"), r.SealedSecret)
	if err != nil {
		return nil, fmt.Errorf("recipient %s of school %s: open secret: %w", r.Name, s.ID, err)
	}
	key, err := webhook.ParseSecret(string(secret))
	if err != nil {
		return nil, fmt.Errorf("recipient %s of school %s: %w", r.Name, s.ID, err)
	}
	hc, err := a.httpClient(s, false)
	if err != nil {
		return nil, err
	}
	return webhookPusher{c: &webhook.Client{HTTP: hc, Now: a.now, UserAgent: a.o.LAS.UserAgent}, url: r.URL, key: key}, nil
}

// webhookPusher is a delivery.Pusher over a webhook.Client.
type webhookPusher struct {
	c   *webhook.Client
	url string
	key []byte
}

func (p webhookPusher) Push(ctx context.Context, id string, body []byte) (delivery.Pushed, error) {
	resp, err := p.c.Send(ctx, p.url, p.key, id, body)
	if err != nil {
		return delivery.Pushed{}, err
	}
	return delivery.Pushed{Status: resp.Status, SentAt: resp.SentAt, RequestSHA256: resp.RequestSHA256}, nil
}
