package engineimages

// Exported for the tests of package engineimages_test, which use testenv
// (and testenv imports this package).
var (
	PruneStale = pruneStale
	ImportTar  = importTar
	AddData    = addData
	StaleAfter = staleAfter
)
