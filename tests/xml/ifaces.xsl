<?xml version="1.0"?>
<!-- One line per /domain/devices/interface (also inside <domstatus>): the dev of its
     first <target>, or an empty line. Used to compare with libvirt's test driver. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text"/>
  <xsl:template match="/">
    <xsl:for-each select="(/domain|/domstatus/domain)/devices/interface">
      <xsl:value-of select="target[1]/@dev"/>
      <xsl:text>&#10;</xsl:text>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
