// Package mapping turns UWLR wire records (package wsdl/uwlr) into the
// gateway's domain records (package gateway). It is the room where the data
// minimisation rule of the processing agreement is enforced: a field crosses
// this boundary only when it is on the allow-list below, so BSN,
// onderwijsnummer, sofinummer, bsn_ondwnr-4, rijksregisternummer, postcodes,
// countries, etniciteit, gewicht, fotourl, e-mail address and user name of
// pupils, instroom/uitstroom, mutatiedatum and vestiging never reach the store.
//
// Allowed for a pupil (leerling): achternaam, voorvoegsel, roepnaam,
// voornamen, voorletters-1, geslacht, geboortedatum, @key, jaargroep, the
// home group key and the composite group keys. The ECK iD (@eckid) is
// returned beside the record, never inside it: the caller seals it with the
// vault and fills EckIndex and SealedEckID. Allowed for a teacher
// (leerkracht): achternaam, voorvoegsel, roepnaam, emailadres, rol,
// rolomschrijving, @key, group and composite group keys, and the ECK iD
// (again returned beside the record). These lists are data
// (AllowedLeerlingFields and its siblings, fields.go): a test holds each
// mapping function to its list field by field, and a redacted capture of an
// answer (package capture) keeps exactly the listed fields.
//
// The functions are pure: no I/O, no clock, no logging, no global state they
// change (a Checker holds state for one answer only). They never keep a reference to the wire record or its slices, so a
// streaming reader may reuse its buffers after the call.
//
// Problems are reported as [Warning]s. A warning names the record by its LAS
// key (or position, see [Locate]) and the field by its UWLR element name; it
// never carries a field value (only LAS keys of records and groups), so it
// never contains a name, birth date, ECK iD or any dropped field, and it is
// safe to log and to show to an operator.
// A value that fails validation is left empty in the result (the record is
// still usable); the ECK iD is the exception: its format is only advisory
// (docs/UWLR-SPEC.md §5: treat it as an opaque string), so it is kept and warned about.
// A warning with Fatal set means the record has no usable identity and the
// caller must skip it (see [Unusable]). So does a value longer than its
// field limit ([FieldLimits]: the XSD's maxLength of each kept field, data
// beside the allow-lists, the ECK iD's 256 characters included): the record
// is refused whole and nothing over a limit is returned or stored.
//
// The functions map one record; a [Checker] maps the records of a whole
// answer as they stream in and owns every check that needs more than one
// record: unique keys and ECK iDs, and references to groups and branches
// (deferred to the end of the answer, since vendors send the lists in any
// order). It is the one validation pass: the SOAP reader only parses and
// counts. The XSD's own key/keyref constraints never fire in practice
// (their XPaths are unprefixed), so the Checker is the only protection
// against links to groups that do not exist.
//
// Results travel the other way: [LeerresultatenVerzoek] turns a batch of
// domain results and their test definitions into one BrengLeerresultaten
// body, checking everything the XSD would refuse (and never inventing a
// missing score). It receives the plain ECK iD from its caller and never
// puts it in an error.
package mapping
