// Drill: move the proxy VIP from proxy1 to proxy2 through the real CLI, once with proxy1
// cut off (manual fencing path) and once with proxy1 still answering (VIP dropped there).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { labDown, labExecOk, labUp, linkDown, linkUp, LAB_VIPS } from '../lab/index.js';
import { note, runRunbook, stateDir, stepResult, summaryLine } from './cli.js';

const VIP = LAB_VIPS.proxy;
const get = () =>
  execFileSync('curl', ['-fsS', '-m', '3', `http://${VIP}/`])
    .toString()
    .trim();
// the operator's neighbour entry for the VIP: which MAC address it sends to
const neighMac = () => /lladdr (\S+)/.exec(execFileSync('ip', ['neigh', 'show', VIP]).toString())?.[1];
const macOf = (host: 'proxy1' | 'proxy2') => labExecOk(host, 'cat /sys/class/net/eth0/address');

describe('proxy-failover', () => {
  const state = stateDir();

  beforeAll(async () => {
    const { ms } = await labUp(['proxy']);
    note(`lab up (proxy) in ${ms} ms`);
  });

  afterAll(async () => {
    await labDown();
  });

  it('moves the VIP away from a cut-off proxy, and the operator side learns the new MAC', async () => {
    expect(get()).toBe('proxy1');
    expect(neighMac()).toBe(await macOf('proxy1'));
    await linkDown('proxy1');

    const run = await runRunbook('proxy-failover', state, ['--yes-manual']);
    note(`proxy failover (active cut off): ${summaryLine(run.stdout)}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'vip-off-active')).toBe('skipped');
    expect(stepResult(run.stdout, 'fence-unreachable-active')).toBe('ok');
    // gratuitous ARP updated the entry that still pointed at proxy1
    expect(neighMac()).toBe(await macOf('proxy2'));
    expect(get()).toBe('proxy2');
  });

  it('drops the VIP on a proxy that still answers, so only one host holds it', async () => {
    // back to the start: proxy1 active again
    await labExecOk('proxy2', `ip addr del ${VIP}/24 dev eth0`);
    await linkUp('proxy1');
    await labExecOk('proxy1', `arping -q -U -c 1 -I eth0 ${VIP}`);
    expect(get()).toBe('proxy1');

    const run = await runRunbook('proxy-failover', state, ['--yes-manual']);
    note(`proxy failover (active answering): ${summaryLine(run.stdout)}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(stepResult(run.stdout, 'vip-off-active')).toBe('ok');
    expect(stepResult(run.stdout, 'fence-unreachable-active')).toBe('skipped');
    expect(await labExecOk('proxy1', 'ip -o -4 addr show dev eth0')).not.toContain(`${VIP}/24`);
    expect(await labExecOk('proxy2', 'ip -o -4 addr show dev eth0')).toContain(`${VIP}/24`);
    expect(get()).toBe('proxy2');
  });

  it('refuses when the standby already holds the VIP', async () => {
    const run = await runRunbook('proxy-failover', state, ['--yes-manual']);
    expect(run.code).not.toBe(0);
    expect(stepResult(run.stdout, 'standby-lacks-vip')).toBe('FAILED');
  });
});
