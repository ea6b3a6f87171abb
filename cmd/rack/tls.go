package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// tlsSelfSigned is the RACK_TLS value that makes the API serve TLS with a
// certificate generated at start, as upstream racks do: behind a TCP
// pass-through load balancer (or one that speaks HTTPS to it) nothing
// crosses the network in clear. Clients accept the certificate as the
// convox CLI does (it does not verify rack certificates).
const tlsSelfSigned = "self-signed"

// listenTLS wraps l in TLS as mode asks: "" keeps plain HTTP (a local rack on
// loopback), tlsSelfSigned serves a certificate made for endpoint's host. On
// error it closes l.
func listenTLS(l net.Listener, mode, endpoint string) (net.Listener, bool, error) {
	switch mode {
	case "":
		return l, false, nil
	case tlsSelfSigned:
	default:
		l.Close()
		return nil, false, fmt.Errorf("RACK_TLS must be empty or %s, got %q", tlsSelfSigned, mode)
	}
	host := "localhost"
	if u, err := url.Parse(endpoint); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	cert, err := selfSigned(host, time.Now())
	if err != nil {
		l.Close()
		return nil, false, fmt.Errorf("generating the rack certificate: %w", err)
	}
	return tls.NewListener(l, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// HTTP/1.1 only: build logs are websockets, which upgrade an HTTP/1.1 connection.
		NextProtos: []string{"http/1.1"},
	}), true, nil
}

// selfSigned is a new ECDSA P-256 certificate for host, valid for a year from now.
func selfSigned(host string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{"convox"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
