# A test certificate authority, made with GnuTLS' certtool (gnutls-bin):
#
#   bh_tls_ca DIR NAME              DIR/NAME-ca.pem, DIR/NAME-ca.key
#   bh_tls_cert DIR CA NAME CN SAN_DNS SAN_IP ROLE
#                                   DIR/NAME.pem, DIR/NAME.key signed by CA
#                                   (ROLE: server or client)
#
# Keys are ECDSA P-256 (fast to make); certificates are valid for a day.
# Everything stays in DIR.
bh_tls_ca() {
	local dir=$1 name=$2
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
		--outfile "$dir/$name-ca.key" 2>/dev/null || return 1
	cat >"$dir/$name-ca.tmpl" <<EOF
cn = "$name test CA"
ca
cert_signing_key
expiration_days = 1
EOF
	certtool --generate-self-signed --load-privkey "$dir/$name-ca.key" \
		--template "$dir/$name-ca.tmpl" --outfile "$dir/$name-ca.pem" 2>/dev/null
}

bh_tls_cert() {
	local dir=$1 ca=$2 name=$3 cn=$4 dns=$5 ip=$6 role=$7
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
		--outfile "$dir/$name.key" 2>/dev/null || return 1
	{
		echo "cn = \"$cn\""
		[ -n "$dns" ] && echo "dns_name = \"$dns\""
		[ -n "$ip" ] && echo "ip_address = \"$ip\""
		echo "expiration_days = 1"
		echo "signing_key"
		echo "encryption_key"
		if [ "$role" = server ]; then echo "tls_www_server"; else echo "tls_www_client"; fi
	} >"$dir/$name.tmpl"
	certtool --generate-certificate --load-privkey "$dir/$name.key" \
		--load-ca-certificate "$dir/$ca-ca.pem" --load-ca-privkey "$dir/$ca-ca.key" \
		--template "$dir/$name.tmpl" --outfile "$dir/$name.pem" 2>/dev/null
}
