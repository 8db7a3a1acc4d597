package main

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// deleteGroups is --delete: DeleteGroups for --group (or every group), then
// Kafka's summary. Groups that could not be deleted are listed with the
// Java exception; the exit status stays 0 then, as in Kafka.
func (c *command) deleteGroups() error {
	ids, err := c.groupIDs()
	if err != nil {
		return err
	}
	failures := map[string]string{}
	if len(ids) > 0 {
		ctx, cancel := c.ctx()
		defer cancel()
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Groups = ids
		answered := map[string]bool{}
		for _, shard := range c.cl.RequestSharded(ctx, req) {
			if shard.Err != nil {
				for _, g := range shard.Req.(*kmsg.DeleteGroupsRequest).Groups {
					failures[g] = requestErr("deleteConsumerGroups", shard.Err).Error()
					answered[g] = true
				}
				continue
			}
			for _, g := range shard.Resp.(*kmsg.DeleteGroupsResponse).Groups {
				answered[g.Group] = true
				if g.ErrorCode != 0 {
					failures[g.Group] = javaException(g.ErrorCode, g.ErrorMessage)
				}
			}
		}
		for _, g := range ids {
			if !answered[g] {
				failures[g] = "org.apache.kafka.common.errors.TimeoutException: " +
					"Timed out waiting for a node assignment. Call: deleteConsumerGroups"
			}
		}
	}

	// The admin client's map of results, then the tool's maps of
	// successes and failures: all HashMaps keyed by group id.
	var succeeded, failed []string
	for _, g := range hashMapOfStrings(newJavaHashMap(), ids) {
		if _, bad := failures[g]; bad {
			failed = append(failed, g)
		} else {
			succeeded = append(succeeded, g)
		}
	}
	succeeded = hashMapOfStrings(newJavaHashMap(), succeeded)
	failed = hashMapOfStrings(newJavaHashMap(), failed)
	quoted := "'" + strings.Join(succeeded, "', '") + "'"
	if len(failed) == 0 {
		c.out.WriteString("Deletion of requested consumer groups (" + quoted + ") was successful.\n")
		return nil
	}
	c.printError("Deletion of some consumer groups failed:")
	for _, g := range failed {
		c.out.WriteString("* Group '" + g + "' could not be deleted due to: " + failures[g] + "\n")
	}
	if len(succeeded) > 0 {
		// Kafka 3.9 garbles this list ("'a'b', '"); this is the text of
		// Kafka's Scala tool.
		c.out.WriteString("\nThese consumer groups were deleted successfully: " + quoted + "\n")
	}
	return nil
}
