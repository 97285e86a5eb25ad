<?php
// An independent UWLR 2.2 "LAS" built on PHP's ext/soap SoapServer.
//
// This file holds the two service objects; router.php (the script PHP's
// built-in web server runs) picks one by URL path and hands it to SoapServer
// together with the official WSDL from wsdl/wsdl. ext/soap does the XML work:
// it decodes the request into stdClass objects, calls the method named like
// the WSDL operation, and encodes the PHP arrays we return into the response
// element using the XSD types. The one exception is groepen_xml() below.
//
// Environment (all optional, for running by hand):
//   UWLR_INTEROP_SLEUTEL    the autorisatiesleutel to accept (default "interop-sleutel")
//   UWLR_INTEROP_KLANTCODE  the klantcode to accept (default "UWLRGW")
//   UWLR_INTEROP_KLANTNAAM  the klantnaam to accept (default "uwlr-gateway")
//   UWLR_INTEROP_RESULTS    file that BrengLeerresultaten appends one JSON line to

const WSDL_DIR = __DIR__ . '/../../wsdl/wsdl';
const NS_LEERLINGGEGEVENS = 'http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens';

function env(string $name, string $default): string
{
    $v = getenv($name);
    return ($v === false || $v === '') ? $default : $v;
}

// ext/soap turns an element that occurs once into an object and one that
// occurs more often into an array; as_list() makes both a list.
function as_list($v): array
{
    if ($v === null) {
        return [];
    }
    return is_array($v) ? $v : [$v];
}

// groepen_xml renders a <groepen> element as literal XML. ext/soap cannot
// encode what the XSD uses there,
//   <xs:sequence maxOccurs="unbounded"><xs:choice>groep | samengestelde_groep
// from a PHP array: it repeats only elements whose own maxOccurs > 1, and a
// choice stops after its first branch, so ['groep' => [..], ...] fails with
// "object has no 'naam' property". SoapVar(XSD_ANYXML) is ext/soap's escape
// hatch. Each entry is [element, key, [child => text, ...]].
function groepen_xml(array $groepen): SoapVar
{
    $esc = fn(string $s): string => htmlspecialchars($s, ENT_XML1 | ENT_QUOTES, 'UTF-8');
    $xml = '<groepen xmlns="' . NS_LEERLINGGEGEVENS . '">';
    foreach ($groepen as [$element, $key, $velden]) {
        $xml .= "<$element key=\"" . $esc($key) . '">';
        foreach ($velden as $naam => $waarde) {
            $xml .= "<$naam>" . $esc($waarde) . "</$naam>";
        }
        $xml .= "</$element>";
    }
    return new SoapVar($xml . '</groepen>', XSD_ANYXML);
}

// Autorisatie checks the autorisatie SOAP header. Because the WSDL binding
// declares that header, ext/soap decodes it and calls the method named like
// the header element, autorisatie(), before the operation itself. A
// SoapFault thrown there becomes the response.
abstract class Autorisatie
{
    private bool $geautoriseerd = false;

    public function autorisatie($header): void
    {
        if (($header->klantcode ?? '') !== env('UWLR_INTEROP_KLANTCODE', 'UWLRGW')
            || ($header->klantnaam ?? '') !== env('UWLR_INTEROP_KLANTNAAM', 'uwlr-gateway')) {
            throw new SoapFault('Client.OngeldigeKlantIdentificatie', 'Klantidentificatie ongeldig');
        }
        if (($header->autorisatiesleutel ?? '') !== env('UWLR_INTEROP_SLEUTEL', 'interop-sleutel')) {
            throw new SoapFault('Client.AutorisatieOngeldig', 'Autorisatie ongeldig');
        }
        $this->geautoriseerd = true;
    }

    // A request without the header never reaches autorisatie(), so every
    // operation checks that it ran.
    protected function vereisAutorisatie(): void
    {
        if (!$this->geautoriseerd) {
            throw new SoapFault('Client.AutorisatieOngeldig', 'Autorisatie ontbreekt');
        }
    }
}

// LeerlinggegevensLas serves one small fixed school.
class LeerlinggegevensLas extends Autorisatie
{
    public function HaalLeerlinggegevens($verzoek): array
    {
        $this->vereisAutorisatie();
        if (($verzoek->brincode ?? '') !== '12AB' || ($verzoek->schooljaar ?? '') !== '2024-2025') {
            // A normal answer, not a fault: nothing for that school or year.
            return ['geengegevens' => new stdClass()];
        }
        return ['leerlinggegevens' => [
            'school' => [
                'schooljaar' => '2024-2025',
                'brincode' => '12AB',
                'dependancecode' => '00',
                'auteur' => 'php-soapserver',
                'xsdversie' => '2.2',
            ],
            'groepen' => groepen_xml([
                ['groep', 'G1', ['naam' => 'Groep 1', 'jaargroep' => '1']],
                ['groep', 'G2', ['naam' => 'Groep 2', 'jaargroep' => '2']],
                ['samengestelde_groep', 'SG1', ['naam' => 'Leesclub']],
            ]),
            'leerlingen' => ['leerling' => [
                // A voorvoegsel, an eckid attribute and a composite group.
                ['key' => 'L1', 'eckid' => 'https://ketenid.nl/201703/php-interop-l1',
                    'achternaam' => 'Berg', 'voorvoegsel' => 'van den', 'roepnaam' => 'Sanne',
                    'jaargroep' => '1', 'groep' => ['key' => 'G1'],
                    'samengestelde_groepen' => ['samengestelde_groep' => [['key' => 'SG1']]]],
                // A surname outside ASCII.
                ['key' => 'L2', 'achternaam' => 'Yılmaz', 'roepnaam' => 'Emre',
                    'jaargroep' => '2', 'groep' => ['key' => 'G2']],
                // Only a roepnaam: the second branch of the choice in LeerlingType.
                ['key' => 'L3', 'roepnaam' => 'Noor', 'jaargroep' => '2', 'groep' => ['key' => 'G2']],
            ]],
            'leerkrachten' => ['leerkracht' => [
                ['key' => 'T1', 'achternaam' => 'Dekker', 'roepnaam' => 'Marloes', 'rol' => 'LRK',
                    // The teacher's groepen use the same sequence-of-choice construct.
                    'groepen' => groepen_xml([
                        ['groep', 'G1', ['rol' => 'LRK']],
                        ['groep', 'G2', []],
                        ['samengestelde_groep', 'SG1', []],
                    ])],
            ]],
        ]];
    }
}

// LeerresultatenLas accepts results and records the keys it received.
class LeerresultatenLas extends Autorisatie
{
    public function BrengLeerresultaten($verzoek): stdClass
    {
        $this->vereisAutorisatie();
        $ontvangen = [];
        foreach (as_list($verzoek->toetsafnames->toetsafname ?? null) as $afname) {
            foreach (as_list($afname->resultaten->resultaat ?? null) as $resultaat) {
                $ontvangen[] = [
                    'key' => $resultaat->key,
                    'leerlingid' => $afname->leerlingid,
                    'toetscode' => $resultaat->toetscode,
                    'score' => $resultaat->score ?? null,
                ];
            }
        }
        if ($ontvangen === []) {
            throw new SoapFault('Client.OngeldigBericht', 'Geen resultaten ontvangen');
        }
        $log = getenv('UWLR_INTEROP_RESULTS');
        if ($log !== false && $log !== '') {
            $regel = json_encode(['brincode' => $verzoek->school->brincode ?? '', 'resultaten' => $ontvangen]);
            file_put_contents($log, $regel . "\n", FILE_APPEND | LOCK_EX);
        }
        // leerresultaten_bevestiging has the empty type ctpLeeg.
        return new stdClass();
    }
}

// serve answers the current request with $service behind an official WSDL.
function serve(string $wsdlFile, object $service): void
{
    if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
        http_response_code(405);
        header('Allow: POST');
        echo "UWLR SOAP endpoint: POST a SOAP 1.1 envelope\n";
        return;
    }
    $server = new SoapServer(WSDL_DIR . '/' . $wsdlFile, ['cache_wsdl' => WSDL_CACHE_NONE]);
    $server->setObject($service);
    $server->handle();
}
