#!/bin/sh
# /init of the pppd test VM (package pppdvm): mount the kernel file systems,
# load the modules, start the guest helper, run pppd on the virtio console
# line with the options the test wrote to /etc/pppdvm/options, and power the
# VM off when pppd exits. With /etc/pppdvm/respawn (Options.Respawn), pppd
# is started again after each exit instead, as soon as the host opens the
# gate (VM.RestartPPPD writes a line to the FIFO /run/pppd.gate).
# Everything it prints goes to the serial console, which the host reads as
# the VM's log.
export PATH=/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /var/lock /tmp
mount -t devpts devpts /dev/pts
exec </dev/console >/dev/console 2>&1

for m in $(cat /etc/pppdvm/modules); do
	insmod /lib/modules/"$m".ko || echo "pppdvm: insmod $m failed"
done
ip link set lo up

# The virtio console ports appear asynchronously after virtio_console loads.
i=0
while [ ! -e /dev/hvc0 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -e /dev/hvc0 ] || echo "pppdvm: /dev/hvc0 did not appear"

pppdvm-guest &

[ -e /etc/pppdvm/respawn ] && mkfifo /run/pppd.gate
while :; do
	echo "pppdvm: starting pppd file /etc/pppdvm/options:" $(cat /etc/pppdvm/options)
	pppd file /etc/pppdvm/options &
	pid=$!
	echo $pid >/run/pppd.pid
	echo "pppdvm: pppd running as pid $pid"
	wait $pid
	status=$?
	rm -f /run/pppd.pid
	echo "pppdvm: pppd exited with status $status"
	[ -e /etc/pppdvm/respawn ] || break
	read -r _ </run/pppd.gate
done
poweroff -f
