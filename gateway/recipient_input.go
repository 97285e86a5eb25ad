package gateway

// RecipientInput registers a recipient. Secret is a webhook's signing
// secret ("whsec_" + base64, the Standard Webhooks form); Key a uwlr
// recipient's autorisatiesleutel. Both are sealed at once and never shown.
type RecipientInput struct {
	Name       string
	Processing Processing
	Kind       RecipientKind
	URL        string
	Country    string
	Basis      string
	Secret     string
	Key        string
	Klantcode  string
	Klantnaam  string
	ScoreType  string
	Xsdversie  string
	QuoteSOAP  bool
}
