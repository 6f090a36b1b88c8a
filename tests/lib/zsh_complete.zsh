#!/usr/bin/zsh -f
# zsh -f zsh_complete.zsh DIR LINE...
#
# Completes each LINE (the text typed before TAB) in a real interactive
# zsh, run on a pseudo-terminal by zsh/zpty, whose compinit loads the
# completion functions found in DIR (e.g. DIR/_bulkhead). Prints one line
# per LINE: what zsh offered, sorted, unique, joined by spaces ("" when
# nothing). Exit 2 when a LINE got no answer within 10 s.
#
# What was offered is collected by a compadd wrapper: every call of the
# completion functions goes on to the real compadd, and its words are also
# run through `compadd -O`, which applies zsh's own matching against the
# line and stores the words that match instead of adding them. Calls that
# already store (-O, -A) or rewrite (-D) an array are internal to the
# completion system and only passed on.
zmodload zsh/zpty zsh/zselect || exit 2
(( $# >= 2 )) || { print -u2 "usage: zsh_complete.zsh DIR LINE..."; exit 2 }
dir=$1
shift
tmp=$(mktemp -d) || exit 2

cat >$tmp/setup.zsh <<EOF
fpath=(${(q)dir} \$fpath)
autoload -Uz compinit && compinit -u -D
typeset -ga bh_got
compadd() {
	local -a m
	if (( \${@[(I)-[OAD]*]} )); then builtin compadd "\$@"; return; fi
	builtin compadd -O m "\$@"
	bh_got+=("\${m[@]}")
	builtin compadd "\$@"
}
_bh_capture() {
	bh_got=()
	_main_complete
	print -r -- \${(ou)bh_got} >\$BH_ZOUT.tmp && mv \$BH_ZOUT.tmp \$BH_ZOUT
}
zle -C bh-capture complete-word _bh_capture
bindkey '^I' bh-capture
EOF

n=0 rc=0
for line in "$@"; do
	out=$tmp/out.$((++n))
	zpty bhz "env TERM=xterm BH_ZOUT=${(q)out} zsh -f -i"
	zpty -w bhz "source ${(q)tmp}/setup.zsh"
	zpty -w -n bhz "$line"$'\t'
	# drain the terminal (a full pty would stall the shell) until the
	# answer is written; at most 200 x 50 ms
	for ((i = 0; i < 200; i++)); do
		zpty -r -t bhz junk 2>/dev/null
		[[ -e $out ]] && break
		zselect -t 5
	done
	zpty -d bhz
	if [[ -e $out ]]; then
		IFS= read -r got <$out
		print -r -- "$got"
	else
		print -u2 "zsh_complete: no answer for '$line'"
		print
		rc=2
	fi
done
# no EXIT trap: zpty's forked child would run it and remove $tmp
rm -rf -- $tmp
exit $rc
