/**
 * UDS (ISO 14229-1) names: diagnostic services and negative response codes. A negative response
 * is `7F <SID> <NRC>`; the names are what a diagnosis engineer searches for.
 */

export const UDS_SERVICES: Readonly<Record<number, string>> = {
  0x10: 'DiagnosticSessionControl',
  0x11: 'ECUReset',
  0x14: 'ClearDiagnosticInformation',
  0x19: 'ReadDTCInformation',
  0x22: 'ReadDataByIdentifier',
  0x23: 'ReadMemoryByAddress',
  0x24: 'ReadScalingDataByIdentifier',
  0x27: 'SecurityAccess',
  0x28: 'CommunicationControl',
  0x29: 'Authentication',
  0x2a: 'ReadDataByPeriodicIdentifier',
  0x2c: 'DynamicallyDefineDataIdentifier',
  0x2e: 'WriteDataByIdentifier',
  0x2f: 'InputOutputControlByIdentifier',
  0x31: 'RoutineControl',
  0x34: 'RequestDownload',
  0x35: 'RequestUpload',
  0x36: 'TransferData',
  0x37: 'RequestTransferExit',
  0x38: 'RequestFileTransfer',
  0x3d: 'WriteMemoryByAddress',
  0x3e: 'TesterPresent',
  0x83: 'AccessTimingParameter',
  0x84: 'SecuredDataTransmission',
  0x85: 'ControlDTCSetting',
  0x86: 'ResponseOnEvent',
  0x87: 'LinkControl',
};

export const UDS_NRCS: Readonly<Record<number, string>> = {
  0x10: 'generalReject',
  0x11: 'serviceNotSupported',
  0x12: 'subFunctionNotSupported',
  0x13: 'incorrectMessageLengthOrInvalidFormat',
  0x14: 'responseTooLong',
  0x21: 'busyRepeatRequest',
  0x22: 'conditionsNotCorrect',
  0x24: 'requestSequenceError',
  0x25: 'noResponseFromSubnetComponent',
  0x26: 'failurePreventsExecutionOfRequestedAction',
  0x31: 'requestOutOfRange',
  0x33: 'securityAccessDenied',
  0x34: 'authenticationRequired',
  0x35: 'invalidKey',
  0x36: 'exceededNumberOfAttempts',
  0x37: 'requiredTimeDelayNotExpired',
  0x70: 'uploadDownloadNotAccepted',
  0x71: 'transferDataSuspended',
  0x72: 'generalProgrammingFailure',
  0x73: 'wrongBlockSequenceCounter',
  0x78: 'requestCorrectlyReceivedResponsePending',
  0x7e: 'subFunctionNotSupportedInActiveSession',
  0x7f: 'serviceNotSupportedInActiveSession',
  0x81: 'rpmTooHigh',
  0x82: 'rpmTooLow',
  0x83: 'engineIsRunning',
  0x84: 'engineIsNotRunning',
  0x85: 'engineRunTimeTooLow',
  0x86: 'temperatureTooHigh',
  0x87: 'temperatureTooLow',
  0x88: 'vehicleSpeedTooHigh',
  0x89: 'vehicleSpeedTooLow',
  0x8a: 'throttlePedalTooHigh',
  0x8b: 'throttlePedalTooLow',
  0x8c: 'transmissionRangeNotInNeutral',
  0x8d: 'transmissionRangeNotInGear',
  0x8f: 'brakeSwitchesNotClosed',
  0x90: 'shifterLeverNotInPark',
  0x91: 'torqueConverterClutchLocked',
  0x92: 'voltageTooHigh',
  0x93: 'voltageTooLow',
};

export const hex2 = (n: number) => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;

export function serviceName(sid: number): string {
  return UDS_SERVICES[sid] ?? `service ${hex2(sid)}`;
}

export function nrcName(nrc: number): string {
  if (UDS_NRCS[nrc]) return UDS_NRCS[nrc]!;
  if (nrc >= 0x38 && nrc <= 0x4f) return 'reservedByExtendedDataLinkSecurity';
  return `NRC ${hex2(nrc)}`;
}
