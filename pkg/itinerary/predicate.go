package itinerary

// All returns a predicate that holds when every one of ps holds (and when ps is empty).
func All[F any](ps ...Predicate[F]) Predicate[F] {
	return func(f F) bool {
		for _, p := range ps {
			if !p(f) {
				return false
			}
		}
		return true
	}
}

// Any returns a predicate that holds when at least one of ps holds (never when ps is empty).
func Any[F any](ps ...Predicate[F]) Predicate[F] {
	return func(f F) bool {
		for _, p := range ps {
			if p(f) {
				return true
			}
		}
		return false
	}
}

// Not returns a predicate that holds when p does not.
func Not[F any](p Predicate[F]) Predicate[F] {
	return func(f F) bool { return !p(f) }
}
