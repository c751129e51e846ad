/** Domain errors of the fault store; the HTTP layer maps them to status codes. */
export class PolicyNotFoundError extends Error {
  constructor(readonly policyName: string) {
    super(`policy "${policyName}" not found`);
    this.name = 'PolicyNotFoundError';
  }
}

export class PolicyExistsError extends Error {
  constructor(readonly policyName: string) {
    super(`policy "${policyName}" already exists`);
    this.name = 'PolicyExistsError';
  }
}
