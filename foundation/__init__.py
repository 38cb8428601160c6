"""The ground floor: the landing contract, business time and months, reference data (provinces,
identity numbers), the errors people see and what a message may quote (R15). Imports nothing of the
project; everything else stands on it."""
