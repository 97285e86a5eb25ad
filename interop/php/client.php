<?php
// A UWLR 2.2 client built on PHP's ext/soap SoapClient, driven only by the
// official WSDL the LAS publishes. It makes one call and prints one JSON
// object on stdout, so a test (or a person) can compare it with what the LAS
// holds.
//
// Usage:
//   php client.php <wsdl-url> <endpoint> <key> <klantcode> <klantnaam> <brin> <dependancecode> <schooljaar> [operation]
// where operation is
//   HaalLeerlinggegevens                          (default) the whole school
//   HaalStructuur                                 the stepwise (getrapt) structure call
//   BrengLeerresultaten <leerlingid> <key1> <key2>  two scores for one pupil; use the
//                                                 ?wsdl=leerresultaten WSDL for this one
//
// Set UWLR_INTEROP_COMPRESSION=gzip or deflate to send the request compressed.
//
// A SOAP fault is a normal outcome here: it is printed as
// {"fault": {"code": ..., "string": ...}} with exit status 0. Anything else
// that goes wrong (bad arguments, unreadable WSDL) exits non-zero.

const NS_AUTORISATIE = 'http://www.edustandaard.nl/leerresultaten/2/autorisatie';

// ext/soap turns an element that occurs once into an object and one that
// occurs more often into an array; as_list() makes both a list.
function as_list($v): array
{
    if ($v === null) {
        return [];
    }
    return is_array($v) ? $v : [$v];
}

// summary condenses a leerlinggegevens or leerlinggegevens-structuur element.
function summary($data): array
{
    $leerlingen = as_list($data->leerlingen->leerling ?? null);
    $eerste = $leerlingen[0] ?? null;
    return [
        'school' => [
            'schooljaar' => $data->school->schooljaar ?? null,
            'brincode' => $data->school->brincode ?? null,
        ],
        'groep' => count(as_list($data->groepen->groep ?? null)),
        'samengestelde_groep' => count(as_list($data->groepen->samengestelde_groep ?? null)),
        'leerlingen' => count($leerlingen),
        'leerkrachten' => count(as_list($data->leerkrachten->leerkracht ?? null)),
        'eerste_leerling' => $eerste === null ? null : [
            'key' => $eerste->key ?? null,
            'achternaam' => $eerste->achternaam ?? null,
            'eckid' => $eerste->eckid ?? null,
        ],
    ];
}

// request_header reads a header of the last request, e.g. the SOAPAction
// ext/soap took from the WSDL binding.
function request_header(SoapClient $client, string $name): ?string
{
    $headers = (string) $client->__getLastRequestHeaders();
    if (preg_match('/^' . preg_quote($name, '/') . ':\s*(.*?)\s*$/mi', $headers, $m)) {
        return trim($m[1], '"');
    }
    return null;
}

if ($argc < 9) {
    fwrite(STDERR, "usage: php client.php <wsdl-url> <endpoint> <key> <klantcode> <klantnaam> <brin> <dependancecode> <schooljaar> [operation]\n");
    exit(2);
}
[, $wsdlUrl, $endpoint, $key, $klantcode, $klantnaam, $brin, $dependancecode, $schooljaar] = $argv;
$operation = $argv[9] ?? 'HaalLeerlinggegevens';

$options = [
    'trace' => 1,
    'exceptions' => true,
    'cache_wsdl' => WSDL_CACHE_NONE,
    'soap_version' => SOAP_1_1,
    'location' => $endpoint,
];
// Optional: UWLR_INTEROP_COMPRESSION=gzip|deflate makes ext/soap compress
// the request body (Content-Encoding) and accept compressed answers.
$compression = getenv('UWLR_INTEROP_COMPRESSION');
if ($compression === 'gzip' || $compression === 'deflate') {
    $kind = $compression === 'gzip' ? SOAP_COMPRESSION_GZIP : SOAP_COMPRESSION_DEFLATE;
    $options['compression'] = SOAP_COMPRESSION_ACCEPT | $kind | 1; // 1 = zlib level
}
try {
    $client = new SoapClient($wsdlUrl, $options);
} catch (SoapFault $f) {
    // ext/soap does not say why it could not load the WSDL; fetch it once
    // more to find out (HTTP status, or the connection error).
    $body = @file_get_contents($wsdlUrl);
    $why = $body === false
        ? (error_get_last()['message'] ?? 'unknown error')
        : ($http_response_header[0] ?? 'no status line') . ', ' . strlen($body) . ' bytes';
    fwrite(STDERR, "cannot use WSDL $wsdlUrl: {$f->getMessage()}\nfetching it directly: $why\n");
    exit(1);
}

// The WSDL binding declares the autorisatie header (aut:autorisatie) for
// every operation, so ext/soap encodes this plain array with that element's
// XSD type: the three children come out qualified in the autorisatie
// namespace, in XSD order. Without a WSDL one would need a SoapVar instead.
$client->__setSoapHeaders([new SoapHeader(NS_AUTORISATIE, 'autorisatie', [
    'autorisatiesleutel' => $key,
    'klantcode' => $klantcode,
    'klantnaam' => $klantnaam,
])]);

// The operations of every port in the WSDL, e.g. "HaalStructuur".
$functions = array_map(
    fn(string $sig): string => preg_match('/\s(\w+)\(/', $sig, $m) ? $m[1] : $sig,
    $client->__getFunctions()
);
$out = ['operation' => $operation, 'functions' => $functions];

$school = ['schooljaar' => $schooljaar, 'brincode' => $brin, 'dependancecode' => $dependancecode];
try {
    switch ($operation) {
        case 'HaalLeerlinggegevens':
            $antwoord = $client->HaalLeerlinggegevens($school + ['xsdversie' => '2.2']);
            $out['leerlinggegevens'] = isset($antwoord->leerlinggegevens) ? summary($antwoord->leerlinggegevens) : null;
            $out['geengegevens'] = isset($antwoord->geengegevens);
            break;
        case 'HaalStructuur':
            $antwoord = $client->HaalStructuur($school + ['xsdversie' => '2.2']);
            $structuur = $antwoord->{'leerlinggegevens-structuur'} ?? null;
            $out['leerlinggegevens'] = $structuur === null ? null : summary($structuur);
            $out['geengegevens'] = isset($antwoord->geengegevens);
            break;
        case 'BrengLeerresultaten':
            if ($argc < 13) {
                fwrite(STDERR, "BrengLeerresultaten needs <leerlingid> <key1> <key2>\n");
                exit(2);
            }
            [$leerlingid, $key1, $key2] = array_slice($argv, 10, 3);
            $bevestiging = $client->BrengLeerresultaten([
                'school' => $school + ['aanmaakdatum' => gmdate('Y-m-d\TH:i:s\Z'), 'xsdversie' => '2.2'],
                'toetsafnames' => ['toetsafname' => [[
                    'leerlingid' => $leerlingid,
                    'resultaten' => ['resultaat' => [
                        ['key' => $key1, 'afnamedatum' => '2025-01-20', 'toetscode' => 'PHP-REKENEN', 'score' => 17],
                        ['key' => $key2, 'afnamedatum' => '2025-01-20', 'toetscode' => 'PHP-REKENEN', 'score' => 0],
                    ]],
                ]]],
                // Every toetscode used above must be defined here (XSD keyref).
                'toetsen' => ['toets' => [[
                    'toetscode' => ['_' => 'PHP-REKENEN', 'vocabulaire' => 'interop'],
                    'toetsnaam' => 'Rekenen (PHP interop)',
                ]]],
            ]);
            // leerresultaten_bevestiging is empty: ext/soap returns an empty object.
            $out['bevestiging'] = is_object($bevestiging);
            break;
        default:
            fwrite(STDERR, "unknown operation $operation\n");
            exit(2);
    }
} catch (SoapFault $f) {
    $out['fault'] = ['code' => $f->faultcode, 'string' => $f->faultstring];
}
$out['soapaction'] = request_header($client, 'SOAPAction');
$out['content_encoding'] = request_header($client, 'Content-Encoding');

echo json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
