send() { printf 'From: <sender@oracle.test>\nTo: <%s>\nSubject: oracle suspended %s\n\noracle test message\n' "$1" "$2" | sendmail -f sender@oracle.test -- "$1"; }
L=$WORK/pf/maillog
postfix stop >/dev/null 2>&1; sleep 0.5
for n in 1 2 3 4 5 6 7 8 9 10; do send user$n@example.test $n; done
postfix start
for i in $(seq 1 300); do [ "$(grep -c 'status=' $L 2>/dev/null)" -ge 10 ] && break; sleep 0.1; done
sleep 0.5
send late@example.test 11
for i in $(seq 1 300); do [ "$(grep -c 'status=' $L 2>/dev/null)" -ge 11 ] && break; sleep 0.1; done
sleep 0.5
postfix stop
sleep 1
cat $L
