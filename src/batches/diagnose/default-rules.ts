/**
 * Rules shipped with Vigil for OTA and flashing failures. Kept as YAML text so it reads exactly
 * like a user's rules file (`diagnosis.rulesFile` adds to or overrides these by id);
 * `vigil batch rules` prints it.
 */
import { parseRules, type Rule } from './rules.js';

export const DEFAULT_RULES_YAML = `rules:
  - id: ota.programming-failure
    title: Programming failure while flashing (NRC 0x72 generalProgrammingFailure)
    severity: critical
    match: { fact: uds_nrc, nrc: 0x72 }
    action: The ECU could not write the block to flash. Check supply voltage during programming, then retry the campaign; a repeat on the same ECU points to worn flash memory and the ECU should be replaced.

  - id: ota.wrong-block-sequence
    title: Wrong block sequence counter during download (NRC 0x73)
    severity: critical
    match: { fact: uds_nrc, nrc: 0x73 }
    action: The tester and the ECU disagree on the TransferData block counter, usually after a lost or repeated frame. Restart the download from RequestDownload; check bus load and gateway buffering.

  - id: ota.block-sequence-gap
    title: TransferData blocks out of sequence
    severity: high
    match: { fact: flash_block_gap }
    action: Blocks were skipped or repeated in a download. Compare with the ECU's NRC 0x73 answers and the gateway's retransmissions; restart the download.

  - id: ota.security-access-denied
    title: Security access refused (NRC 0x33 securityAccessDenied)
    severity: high
    match: { fact: uds_nrc, nrc: 0x33 }
    action: Unlock was refused. Check the session (programming session first) and the tester's seed/key configuration for this ECU variant.

  - id: ota.invalid-key
    title: Security access with an invalid key (NRC 0x35 invalidKey / 0x36 exceededNumberOfAttempts)
    severity: high
    match: { fact: uds_nrc, nrc: [0x35, 0x36] }
    action: The key computed for the seed was wrong. Verify the key algorithm and its secret for this ECU's software version; after 0x36 wait for the ECU's lockout delay before retrying.

  - id: ota.conditions-not-correct
    title: Conditions not correct for the request (NRC 0x22)
    severity: medium
    match: { fact: uds_nrc, nrc: 0x22 }
    action: The ECU refused because of vehicle state (ignition, speed, voltage, gear). Check the campaign's preconditions and the vehicle state at the time of the request.

  - id: ota.response-pending-loop
    title: Response-pending loop (NRC 0x78 repeated)
    severity: medium
    match: { fact: uds_nrc, nrc: 0x78 }
    min_count: 10
    within: 2m
    action: The ECU kept answering "response pending" without finishing. Check whether the routine or erase completes at all; raise the tester's P2* timeout only if the ECU documents a longer duration.

  - id: ota.download-retries
    title: Download retried several times
    severity: medium
    match: { text: '(?i)\\b(download|transfer)\\b.*\\b(retry|retrying|re-?attempt|attempt [2-9])\\b' }
    min_count: 3
    action: The download needed several attempts. Look at the first failure's cause (NRC, timeout or connection loss) and at the link quality during the campaign.

  - id: ecu.reset-loop
    title: ECU reset loop
    severity: high
    match: { fact: ecu_reset }
    min_count: 3
    within: 10m
    action: The ECU reset repeatedly in a short time. Look for a watchdog cause or a boot-time fault right before each reset; roll back to the previous software if it started after the update.

  - id: ota.campaign-failed
    title: OTA campaign ended in a failure state
    severity: critical
    match: { fact: ota_state, state: [FAILED, INSTALL_FAILED, DOWNLOAD_FAILED, ACTIVATION_FAILED, ROLLBACK, ROLLED_BACK, ABORTED] }
    action: The update did not complete. The findings above usually name the ECU-level cause; re-run the campaign after fixing it, or keep the vehicle on the rolled-back version.

  - id: dtc.confirmed
    title: Confirmed diagnostic trouble code
    severity: medium
    match: { fact: dtc, confirmed: true }
    action: A DTC is confirmed (status bit 3). Read its freeze frame and follow the workshop procedure for the code.
`;

let cached: Rule[] | undefined;

export function defaultRules(): Rule[] {
  return (cached ??= parseRules(DEFAULT_RULES_YAML));
}
