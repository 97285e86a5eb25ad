<?php
// Router for PHP's built-in web server, e.g.
//   php -S 127.0.0.1:8089 interop/php/router.php
// It serves two SOAP endpoints, each with its own official UWLR 2.2 WSDL:
//   /leerlinggegevens  UWLR_Leerlinggegevens_v2p2.wsdl (HaalLeerlinggegevens)
//   /leerresultaten    UWLR_Leerresultaten_v2p2.wsdl   (BrengLeerresultaten)

require __DIR__ . '/server.php';

switch (parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH)) {
    case '/leerlinggegevens':
        serve('UWLR_Leerlinggegevens_v2p2.wsdl', new LeerlinggegevensLas());
        break;
    case '/leerresultaten':
        serve('UWLR_Leerresultaten_v2p2.wsdl', new LeerresultatenLas());
        break;
    default:
        http_response_code(404);
        echo "not found: use /leerlinggegevens or /leerresultaten\n";
}
