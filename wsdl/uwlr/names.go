package uwlr

// Namespaces of the UWLR 2.x messages (all schemas use elementFormDefault="qualified").
const (
	NSLeerlinggegevens = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens"
	NSLeerresultaten   = "http://www.edustandaard.nl/leerresultaten/2/leerresultaten"
	NSAutorisatie      = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"
	NSOSO              = "http://www.edustandaard.nl/oso_gegevensset/1.2/dossier"
	NSSOAPEnvelope     = "http://schemas.xmlsoap.org/soap/envelope/"
)

// Service, port and operation names as the official WSDLs declare them.
const (
	ServiceLeerlinggegevens = "LeerlinggegevensService"
	ServiceLeerresultaten   = "LeerresultatenService"

	PortTypeLeerlinggegevens = "prtLeerlinggegevens"
	PortTypeGetrapt          = "prtGetrapt"
	PortTypeLeerresultaten   = "prtLeerresultaten"
)

// Operation is one UWLR SOAP operation: its WSDL name, its SOAPAction and the
// local names of its request and response body elements.
type Operation struct {
	Name       string
	SOAPAction string
	PortType   string
	Request    string
	Response   string
}

// The five operations of UWLR 2.2.
var (
	OpHaalLeerlinggegevens = Operation{
		Name:       "HaalLeerlinggegevens",
		SOAPAction: "HaalLeerlinggegevens",
		PortType:   PortTypeLeerlinggegevens,
		Request:    "leerlinggegevens_verzoek",
		Response:   "leerlinggegevens_antwoord",
	}
	OpHaalStructuur = Operation{
		Name:       "HaalStructuur",
		SOAPAction: "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens/structuur_verzoek",
		PortType:   PortTypeGetrapt,
		Request:    "structuur_verzoek",
		Response:   "structuur_antwoord",
	}
	OpHaalLeerlingen = Operation{
		Name:       "HaalLeerlingen",
		SOAPAction: "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens/leerlingen_verzoek",
		PortType:   PortTypeGetrapt,
		Request:    "leerlingen_verzoek",
		Response:   "leerlingen_antwoord",
	}
	OpHaalLeerkrachten = Operation{
		Name:       "HaalLeerkrachten",
		SOAPAction: "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens/leerkrachten_verzoek",
		PortType:   PortTypeGetrapt,
		Request:    "leerkrachten_verzoek",
		Response:   "leerkrachten_antwoord",
	}
	OpBrengLeerresultaten = Operation{
		Name:       "BrengLeerresultaten",
		SOAPAction: "BrengLeerresultaten",
		PortType:   PortTypeLeerresultaten,
		Request:    "leerresultaten_verzoek",
		Response:   "leerresultaten_bevestiging",
	}
)

// Operations lists every operation, in WSDL order.
var Operations = []Operation{OpHaalLeerlinggegevens, OpHaalStructuur, OpHaalLeerlingen, OpHaalLeerkrachten, OpBrengLeerresultaten}

// OperationBySOAPAction finds an operation by its SOAPAction header value,
// with or without the surrounding quotes SOAP 1.1 allows.
func OperationBySOAPAction(action string) (Operation, bool) {
	if len(action) >= 2 && action[0] == '"' && action[len(action)-1] == '"' {
		action = action[1 : len(action)-1]
	}
	for _, op := range Operations {
		if op.SOAPAction == action {
			return op, true
		}
	}
	return Operation{}, false
}

// OperationByRequest finds an operation by the local name of its request body element.
func OperationByRequest(local string) (Operation, bool) {
	for _, op := range Operations {
		if op.Request == local {
			return op, true
		}
	}
	return Operation{}, false
}
