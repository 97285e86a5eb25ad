package httpapi

import (
	"net/http"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Languages of the web page: Dutch (the default, for Dutch school admins)
// and English.
const (
	langNL = "nl"
	langEN = "en"
)

// processingText is how the web page describes each optional processing:
// what the processing agreement says it is, and what the gateway does
// under it (each switch opens its own flow and no other).
var processingText = map[string]map[gateway.Processing][2]string{
	langNL: {
		gateway.ProcessingLASExchange: {"Uitwisseling met het LAS",
			"Het uitwisselen van persoonsgegevens en resultaten met het leerlingadministratiesysteem (LAS) van de school: leerlinggegevens ophalen en toetsresultaten terugsturen."},
		gateway.ProcessingDashboards: {"Dashboards",
			"Het uitwisselen van leer- en toetsresultaten met dashboards die de school gebruikt. Met deze toestemming stuurt de gateway resultaten (per leerling alleen de LAS-sleutel, nooit een ECK iD, naam of geboortedatum) naar de dashboards hieronder."},
		gateway.ProcessingLegal: {"Wettelijke eisen",
			"Het beschikbaar stellen van gegevens voor zover nodig om te voldoen aan de wettelijke eisen die aan digitale leermiddelen worden gesteld. Met deze toestemming kan de beheerder precies de velden van een ingestelde wettelijke grondslag verstrekken aan de ontvanger hieronder."},
		gateway.ProcessingResearch: {"Onderzoek en statistiek",
			"Het beschikbaar stellen van (geanonimiseerde of gepseudonimiseerde) persoonsgegevens voor wetenschappelijk onderzoek of statistiek om het leren of het beleid van de school te verbeteren, onder strikte voorwaarden. Met deze toestemming kan per geregistreerd onderzoek een gepseudonimiseerde export worden gemaakt (zonder namen, LAS-sleutels, ECK iD's of volledige geboortedata; groepen van minstens k leerlingen)."},
	},
	langEN: {
		gateway.ProcessingLASExchange: {"Exchange with the LAS",
			"Exchanging personal data and results with the school's pupil administration system (LAS): pulling pupil data and sending test results back."},
		gateway.ProcessingDashboards: {"Dashboards",
			"Exchanging learning and test results with dashboards the school uses. With this consent the gateway sends results (a pupil by LAS key only, never an ECK iD, a name or a birth date) to the dashboards below."},
		gateway.ProcessingLegal: {"Legal requirements",
			"Making data available as far as needed to meet the legal requirements placed on digital learning materials. With this consent an operator can disclose exactly the fields of a configured legal basis to the recipient below."},
		gateway.ProcessingResearch: {"Research and statistics",
			"Making (anonymised or pseudonymised) personal data available for scientific research or statistics that improve learning or the school's policy, under strict conditions. With this consent a pseudonymised export can be made per registered study (no names, LAS keys, ECK iDs or full birth dates; groups of at least k pupils)."},
	},
}

// processingStops says what stops while a processing is off (the web
// page shows it under each switch).
var processingStops = map[string]map[gateway.Processing]string{
	langNL: {
		gateway.ProcessingLASExchange: "stoppen de synchronisaties en gaan er geen resultaten meer naar het LAS; resultaten in de wachtrij worden vastgehouden.",
		gateway.ProcessingDashboards:  "gaan er geen resultaten meer naar deze dashboards; resultaten in de wachtrij wachten.",
		gateway.ProcessingLegal:       "kan er geen verstrekking voor wettelijke eisen worden gemaakt.",
		gateway.ProcessingResearch:    "kan er geen onderzoeksexport worden gemaakt.",
	},
	langEN: {
		gateway.ProcessingLASExchange: "syncs and results to the LAS stop; queued results are held.",
		gateway.ProcessingDashboards:  "results stop going to these dashboards; queued results wait.",
		gateway.ProcessingLegal:       "no legal disclosure can be made.",
		gateway.ProcessingResearch:    "no research export can be made.",
	},
}

// texts are the page's words.
var texts = map[string]map[string]string{
	langNL: {
		"title": "UWLR-koppeling", "login": "Inloggen", "token": "Toegangssleutel (token)", "login.help": "Plak de toegangssleutel die u van de beheerder kreeg.",
		"logout": "Uitloggen", "schools": "Scholen", "consent": "Toestemming", "consent.help": "Elke verwerking staat uit totdat de school die aanzet. Elke wijziging wordt vastgelegd.",
		"consent.school": "Alleen de school zelf zet een verwerking aan (met een beheerderstoken van de school). U kunt een verwerking wel uitzetten.",
		"on":             "Aan", "off": "Uit", "turn.on": "Aanzetten", "turn.off": "Uitzetten",
		"connection": "Verbinding met het LAS", "connection.none": "Nog niet getest.", "connection.ok": "Verbinding werkt", "connection.fail": "Verbinding mislukt",
		"test": "Verbinding testen", "fix": "Oplossing", "sync": "Synchronisatie", "sync.last": "Laatste synchronisatie", "sync.next": "Volgende geplande synchronisatie",
		"sync.never": "Nog nooit", "sync.none": "Niet gepland", "sync.now": "Nu synchroniseren", "held": "Goedkeuring van grote wijzigingen",
		"run.applied": "doorgevoerd", "run.held": "wacht op goedkeuring", "run.unchanged": "geen wijzigingen", "run.refused": "geweigerd (geen toestemming)", "run.failed": "mislukt",
		"held.help": "Deze synchronisatie verandert veel leerlingen tegelijk en wordt pas doorgevoerd na uw goedkeuring.",
		"held.none": "Er wacht geen synchronisatie op goedkeuring.", "approve": "Goedkeuren en doorvoeren", "added": "nieuw", "changed": "gewijzigd", "left": "vertrokken",
		"pupil": "Leerling", "laskey": "LAS-sleutel", "kind": "Soort", "fields": "Velden", "results": "Resultaten naar het LAS",
		"state.queued": "In de wachtrij", "state.sent": "Verzonden", "state.accepted": "Geaccepteerd", "state.rejected": "Geweigerd", "state.held": "Vastgehouden", "state.split": "Opgesplitst",
		"viewer": "U kunt alleen meekijken.", "back": "Terug", "error": "Er ging iets mis", "denied": "Geen toegang", "bad.token": "Deze toegangssleutel is niet geldig.",
		"at": "om", "pupils": "leerlingen", "status": "Status", "profile": "LAS-profiel", "groups": "groepen",
		"msg.consent": "Toestemming bijgewerkt.", "msg.tested": "Verbinding getest.", "msg.approved": "Synchronisatie goedgekeurd en doorgevoerd.", "msg.sync": "Synchronisatie gestart; ververs de pagina over enkele ogenblikken.",
		"msg.held": "batches met resultaten vastgehouden", "msg.released": "batches met resultaten weer in de wachtrij",
		"contact": "Contactpersoon", "contact.help": "De beheerder van de school voor deze koppeling, ook de contactpersoon bij een datalek.",
		"contact.none": "Er is nog geen contactpersoon ingesteld.", "contact.name": "Naam", "contact.email": "E-mailadres",
		"contact.phone": "Telefoonnummer (niet verplicht)", "contact.updated": "Bijgewerkt", "by": "door", "contact.save": "Contactpersoon opslaan",
		"msg.contact": "Contactpersoon opgeslagen.",
		"recipients":  "Ontvangers", "recipients.none": "Er is nog geen ontvanger geregistreerd.", "recipient.name": "Naam",
		"recipient.kind": "Soort", "recipient.where": "Bestemming", "recipient.country": "land", "recipient.basis": "Grondslag",
		"recipient.last": "Laatst verzonden", "sent.none": "nog niets verzonden", "records": "records", "remove": "Verwijderen",
		"kind.webhook": "webhook", "kind.feed": "feed", "kind.uwlr": "UWLR", "kind.file": "bestand",
		"where.feed": "haalt zelf op via de resultatenfeed", "where.file": "exportbestand voor de beheerder",
		"las.recipient": "Het LAS van de school", "stops": "Als deze verwerking uit staat",
		"msg.removed": "Ontvanger verwijderd: er wordt niets meer naar verzonden.",
		"too.many":    "Te veel mislukte pogingen vanaf dit adres. Probeer het straks opnieuw.",
	},
	langEN: {
		"title": "UWLR link", "login": "Log in", "token": "Access token", "login.help": "Paste the access token your administrator gave you.",
		"logout": "Log out", "schools": "Schools", "consent": "Consent", "consent.help": "Each processing is off until the school turns it on. Every change is recorded.",
		"consent.school": "Only the school itself turns a processing on (with the school's admin token). You may turn a processing off.",
		"on":             "On", "off": "Off", "turn.on": "Turn on", "turn.off": "Turn off",
		"connection": "Connection to the LAS", "connection.none": "Not tested yet.", "connection.ok": "Connection works", "connection.fail": "Connection failed",
		"test": "Test connection", "fix": "How to fix", "sync": "Sync", "sync.last": "Last sync", "sync.next": "Next scheduled sync",
		"sync.never": "Never", "sync.none": "Not planned", "sync.now": "Sync now", "held": "Approval of large changes",
		"run.applied": "applied", "run.held": "waiting for approval", "run.unchanged": "no changes", "run.refused": "refused (no consent)", "run.failed": "failed",
		"held.help": "This sync changes many pupils at once and is applied only after your approval.",
		"held.none": "No sync waits for approval.", "approve": "Approve and apply", "added": "added", "changed": "changed", "left": "left",
		"pupil": "Pupil", "laskey": "LAS key", "kind": "Kind", "fields": "Fields", "results": "Results to the LAS",
		"state.queued": "Queued", "state.sent": "Sent", "state.accepted": "Accepted", "state.rejected": "Rejected", "state.held": "Held", "state.split": "Split",
		"viewer": "You can only look.", "back": "Back", "error": "Something went wrong", "denied": "No access", "bad.token": "This access token is not valid.",
		"at": "at", "pupils": "pupils", "status": "Status", "profile": "LAS profile", "groups": "groups",
		"msg.consent": "Consent updated.", "msg.tested": "Connection tested.", "msg.approved": "Sync approved and applied.", "msg.sync": "Sync started; refresh the page in a moment.",
		"msg.held": "result batches held", "msg.released": "result batches queued again",
		"contact": "Contact person", "contact.help": "The school's administrator (beheerder) for this link, also the contact in case of a data breach.",
		"contact.none": "No contact person is set yet.", "contact.name": "Name", "contact.email": "E-mail address",
		"contact.phone": "Phone number (optional)", "contact.updated": "Updated", "by": "by", "contact.save": "Save contact person",
		"msg.contact": "Contact person saved.",
		"recipients":  "Recipients", "recipients.none": "No recipient is registered yet.", "recipient.name": "Name",
		"recipient.kind": "Kind", "recipient.where": "Destination", "recipient.country": "country", "recipient.basis": "Basis",
		"recipient.last": "Last sent", "sent.none": "nothing sent yet", "records": "records", "remove": "Remove",
		"kind.webhook": "webhook", "kind.feed": "feed", "kind.uwlr": "UWLR", "kind.file": "file",
		"where.feed": "pulls from the results feed", "where.file": "export file for the operator",
		"las.recipient": "The school's LAS", "stops": "While this processing is off",
		"msg.removed": "Recipient removed: nothing more is sent to it.",
		"too.many":    "Too many failed attempts from this address. Try again shortly.",
	},
}

// langOf picks the page language: ?lang=, then the lang cookie, then Dutch.
func langOf(r *http.Request) string {
	for _, l := range []string{r.URL.Query().Get("lang"), cookieValue(r, "uwlr_lang")} {
		if l == langNL || l == langEN {
			return l
		}
	}
	return langNL
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
