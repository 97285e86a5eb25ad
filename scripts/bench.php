<?php
// Usage: php scripts/bench.php FILE
//
// Parses a UWLR HaalLeerlinggegevens response (written by `readbench gen`)
// with PHP's SoapClient in WSDL mode, the way a PHP LAS client does, and
// prints one JSON line with the fields of `readbench parse`:
//
//   {"parser":"php-soapclient","pupils":..,"bytes":..,"seconds":..,
//    "mb_per_s":..,"peak_rss_mb":..,"peak_heap_mb":..}
//
// No network: __doRequest returns the file, read into memory before the call.
// seconds is hrtime around the call only (request encoding, response parsing
// and decoding into objects); mb_per_s is bytes/1e6/seconds. peak_rss_mb is
// getrusage() ru_maxrss in MiB (the whole process: file, WSDL, libxml tree,
// result). peak_heap_mb is memory_get_peak_usage(true) during the call minus
// memory_get_usage(true) before it, in MiB: the file itself is excluded, as
// in the Go figures, and so is libxml's own memory (malloc, not Zend), which
// only shows in RSS.

declare(strict_types=1);

if ($argc !== 2) {
    fwrite(STDERR, "usage: php scripts/bench.php FILE\n");
    exit(2);
}
if (!extension_loaded('soap')) {
    fwrite(STDERR, "bench.php: PHP extension soap is not loaded (Debian: apt-get install php-soap)\n");
    exit(1);
}

final class FileSoapClient extends SoapClient
{
    public function __construct(string $wsdl, array $options, private string $body)
    {
        parent::__construct($wsdl, $options);
    }

    public function __doRequest(string $request, string $location, string $action, int $version, bool $oneWay = false): ?string
    {
        return $this->body;
    }
}

$file = $argv[1];
$body = file_get_contents($file);
if ($body === false || $body === '') {
    fwrite(STDERR, "bench.php: cannot read $file\n");
    exit(1);
}

$client = new FileSoapClient(__DIR__ . '/../wsdl/wsdl/UWLR_Leerlinggegevens_v2p2.wsdl', [
    'cache_wsdl' => WSDL_CACHE_NONE,
    'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
    'exceptions' => true,
    'trace' => false,
    'location' => 'http://localhost/not-used',
], $body);

$request = [
    'schooljaar' => '2024-2025',
    'brincode' => '00AA',
    'dependancecode' => '00',
    'xsdversie' => '2.2',
];

gc_collect_cycles();
memory_reset_peak_usage();
$base = memory_get_usage(true);
$t0 = hrtime(true);
$res = $client->HaalLeerlinggegevens($request);
$seconds = (hrtime(true) - $t0) / 1e9;
$peakHeap = memory_get_peak_usage(true) - $base;

// Touch every pupil, as the Go benchmarks do: count and key length.
$leerlingen = $res->leerlinggegevens->leerlingen->leerling ?? null;
if (!is_array($leerlingen)) {
    fwrite(STDERR, "bench.php: no leerlinggegevens/leerlingen/leerling array in the answer\n");
    exit(1);
}
$pupils = 0;
$keyBytes = 0;
foreach ($leerlingen as $l) {
    $pupils++;
    $keyBytes += strlen((string) ($l->key ?? ''));
}
if ($keyBytes < $pupils) {
    fwrite(STDERR, "bench.php: $pupils pupils but only $keyBytes key bytes\n");
    exit(1);
}

$ru = getrusage();
$rss = PHP_OS_FAMILY === 'Darwin' ? $ru['ru_maxrss'] / 1048576 : $ru['ru_maxrss'] / 1024;

echo json_encode([
    'parser' => 'php-soapclient',
    'pupils' => $pupils,
    'bytes' => strlen($body),
    'seconds' => round($seconds, 4),
    'mb_per_s' => round(strlen($body) / 1e6 / $seconds, 2),
    'peak_rss_mb' => round($rss, 1),
    'peak_heap_mb' => round($peakHeap / 1048576, 1),
]), "\n";
