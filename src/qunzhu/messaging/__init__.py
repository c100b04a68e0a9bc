"""What qunzhu says on its own initiative: messages composed by an operator (broadcasts),
checked, paced and planned here, written to the outbox by :mod:`qunzhu.store.broadcasts`."""
